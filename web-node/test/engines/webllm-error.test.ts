import { EngineError } from "@rung/shared/node";
import { describe, expect, it } from "vitest";
import { WebEngineErrorCode } from "../../src/engines/web-engine-error-code.ts";
import { toEngineError } from "../../src/engines/webllm-error.ts";

/**
 * WebLLM does not export its error classes; each sets `this.name` in its
 * constructor, which is what these reproduce. Messages are copied from
 * @mlc-ai/web-llm 0.2.86's lib/index.js.
 */
function webllmError(name: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.name = name;
  return error;
}

/** WebGPU's own objects carry no `name`; browsers tag them with their interface name. */
function webgpuObject(tag: string, fields: Record<string, unknown>): object {
  return { ...fields, [Symbol.toStringTag]: tag };
}

const C = WebEngineErrorCode;

describe("toEngineError", () => {
  it.each([
    [
      "WebLLM's DeviceLostError",
      webllmError(
        "DeviceLostError",
        "The WebGPU device was lost while loading the model. This issue often occurs due to running out of memory (OOM).",
      ),
      C.deviceLost,
    ],
    ["a GPUDeviceLostInfo", webgpuObject("GPUDeviceLostInfo", { reason: "unknown", message: "D3D12 device removed" }), C.deviceLost],
    [
      "a request after WebLLM unloaded on device loss",
      webllmError("ModelNotLoadedError", "Model not loaded before trying to complete ChatCompletionRequest."),
      C.deviceLost,
    ],
    [
      "a GPUOutOfMemoryError",
      webgpuObject("GPUOutOfMemoryError", { message: "Failed to allocate buffer of size 1073741824" }),
      C.outOfMemory,
    ],
    ["the runtime's failed ArrayBuffer", new RangeError("Array buffer allocation failed"), C.outOfMemory],
    ["wasm memory exhausted", new Error("Out of memory: Cannot allocate Wasm memory for new instance"), C.outOfMemory],
    ["a fetch in Chrome", new TypeError("Failed to fetch"), C.loadFailed],
    ["a fetch in Firefox", new TypeError("NetworkError when attempting to fetch resource."), C.loadFailed],
    ["a full browser cache", new DOMException("The quota has been exceeded.", "QuotaExceededError"), C.loadFailed],
    [
      "tvmjs's cache miss",
      new Error("Cannot fetch https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC/resolve/main/params_shard_0.bin"),
      C.loadFailed,
    ],
    [
      "a manifest that failed to download",
      webllmError("ArtifactManifestError", "Failed to load model package manifest", new TypeError("Failed to fetch")),
      C.loadFailed,
    ],
    [
      "corrupt weights",
      webllmError("IntegrityError", "Integrity verification failed for https://example.test/params_shard_0.bin"),
      C.loadFailed,
    ],
    [
      "no WebGPU",
      webllmError(
        "WebGPUNotAvailableError",
        "WebGPU is not supported in your current environment, but it is necessary to run the WebLLM engine.",
      ),
      C.unsupported,
    ],
    [
      "adapter limits below tvmjs's minimum",
      new Error(
        "Cannot initialize runtime because of requested maxBufferSize exceeds limit. requested=256MB, limit=128MB. Consider upgrading your browser.",
      ),
      C.unsupported,
    ],
    [
      "a model that needs shader-f16",
      webllmError("ShaderF16SupportError", "This model requires WebGPU extension shader-f16, which is not enabled in this browser."),
      C.featureMissing,
    ],
    [
      "a prompt longer than the window",
      webllmError(
        "ContextWindowSizeExceededError",
        "Prompt tokens exceed context window size: number of prompt tokens: 5000; context window size: 4096",
      ),
      C.contextLengthExceeded,
    ],
    [
      "a chat ending with an assistant turn",
      webllmError("MessageOrderError", "The last message should be from the `user` or `tool`."),
      C.requestRejected,
    ],
    ["WebLLM's own RangeError", webllmError("RangeError", "Make sure 0 < top_p <= 1."), C.requestRejected],
    ["a request to an engine WebLLM unloaded", webllmError("EngineNotLoadedError", "Engine not loaded"), C.deviceLost],
  ])("maps %s to its code, retryable", (_, error, code) => {
    const mapped = toEngineError(error);
    expect(mapped).toBeInstanceOf(EngineError);
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(true);
    expect(mapped.cause).toBe(error);
  });

  it("maps an abort, and the reason WebLLM aborts its downloads with, to a final cancelled", () => {
    for (const error of [new DOMException("The operation was aborted.", "AbortError"), "Engine.unload() is called."]) {
      const mapped = toEngineError(error);
      expect(mapped).toMatchObject({ code: "cancelled", retryable: false, message: "generation was aborted" });
    }
  });

  it("maps anything else to a retryable engine_failure that keeps the detail", () => {
    expect(toEngineError(new Error("boom"))).toMatchObject({
      code: "engine_failure",
      retryable: true,
      message: "the model failed in this tab (boom)",
    });
    expect(toEngineError(42)).toMatchObject({ code: "engine_failure", retryable: true });
  });

  it("words messages for a volunteer, with WebLLM's detail after", () => {
    const mapped = toEngineError(webllmError("ShaderF16SupportError", "This model requires WebGPU extension shader-f16"));
    expect(mapped.message).toBe(
      "this model needs a graphics feature (shader-f16) this card lacks (This model requires WebGPU extension shader-f16)",
    );
  });

  it("passes an EngineError through untouched", () => {
    const error = new EngineError("busy", "busy", true);
    expect(toEngineError(error)).toBe(error);
  });
});
