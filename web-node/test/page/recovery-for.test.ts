import { describe, expect, it } from "vitest";
import { WebEngineErrorCode as C } from "../../src/engines/web-engine-error-code.ts";
import { recoveryFor } from "../../src/page/recovery-for.ts";

describe("recoveryFor", () => {
  it("reloads after a lost device, steps down after memory, feature, download or file hash failures, falls back to the CPU without WebGPU", () => {
    expect(recoveryFor(C.deviceLost)).toBe("reload");
    expect(recoveryFor(C.outOfMemory)).toBe("smaller-model");
    expect(recoveryFor(C.featureMissing)).toBe("smaller-model");
    expect(recoveryFor(C.loadFailed)).toBe("smaller-model");
    expect(recoveryFor(C.hashMismatch)).toBe("smaller-model");
    expect(recoveryFor(C.unsupported)).toBe("cpu-engine");
    for (const code of [C.cancelled, C.contextLengthExceeded, C.requestRejected, C.interrupted, C.engineFailure, "something_new"]) {
      expect(recoveryFor(code)).toBe("none");
    }
  });
});
