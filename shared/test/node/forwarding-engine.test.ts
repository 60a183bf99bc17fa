import { describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import { ForwardingEngine } from "../../node/forwarding-engine.ts";
import type { Hardware, ModelInfo } from "../../protocol/messages.ts";

const tiny: ModelInfo = { id: "tiny", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 1 };
const hardware: Hardware = { backend: "cpu", devices: [], vramTotalBytes: 0, vramFreeBytes: 0, ramTotalBytes: 8e9, cpuCores: 4 };

describe("ForwardingEngine", () => {
  it("announces what the engine it wraps announces", () => {
    const inner = Object.assign(new EchoEngine({ models: [tiny], slots: 3 }), { hardware });
    const engine = new ForwardingEngine(inner);
    expect([engine.name, engine.models, engine.slots, engine.hardware]).toEqual([inner.name, inner.models, 3, hardware]);
  });

  it("asks the wrapped engine for free VRAM, and answers undefined for one that cannot tell", async () => {
    const measured = new ForwardingEngine(Object.assign(new EchoEngine({ models: [tiny] }), { freeVramBytes: async () => 5e9 }));
    expect(await measured.freeVramBytes()).toBe(5e9);
    expect(await new ForwardingEngine(new EchoEngine({ models: [tiny] })).freeVramBytes()).toBeUndefined();
  });

  it("passes generate and dispose on unchanged", async () => {
    const inner = new EchoEngine({ models: [tiny] });
    const dispose = vi.spyOn(inner, "dispose");
    const engine = new ForwardingEngine(inner);
    const pieces: string[] = [];
    const result = await engine.generate(
      { model: tiny.id, input: { kind: "completion", prompt: "one two" }, sampling: { temperature: 0, topP: 1, stop: [] } },
      { signal: new AbortController().signal, onPiece: (piece) => pieces.push(piece.text) },
    );
    expect(pieces.join("")).toBe("one two");
    expect(result.finishReason).toBe("stop");
    await engine.dispose();
    expect(dispose).toHaveBeenCalledOnce();
  });
});
