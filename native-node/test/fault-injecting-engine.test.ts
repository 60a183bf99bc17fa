import { EchoEngine, type GenerationRequest } from "@rung/shared/node";
import { describe, expect, it } from "vitest";
import { FaultInjectingEngine } from "../src/engines/fault-injecting-engine.ts";

const model = { id: "echo", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 2 };
const request: GenerationRequest = {
  model: "echo",
  input: { kind: "completion", prompt: "one two" },
  sampling: { temperature: 0, topP: 1, stop: [] },
};

function run(engine: FaultInjectingEngine, signal = new AbortController().signal) {
  const started = performance.now();
  let firstPieceMs: number | undefined;
  const result = engine.generate(request, { signal, onPiece: () => (firstPieceMs ??= performance.now() - started) });
  return result.then((r) => ({ ...r, firstPieceMs }));
}

describe("FaultInjectingEngine", () => {
  it("fails the first n jobs retryably with fault_injected, then serves", async () => {
    const engine = new FaultInjectingEngine(new EchoEngine({ models: [model] }), { failJobs: 2 });
    for (let i = 0; i < 2; i++) await expect(run(engine)).rejects.toMatchObject({ code: "fault_injected", retryable: true });
    await expect(run(engine)).resolves.toMatchObject({ finishReason: "stop" });
  });

  it("delays each job's first token", async () => {
    const engine = new FaultInjectingEngine(new EchoEngine({ models: [model] }), { firstTokenDelayMs: 150 });
    for (let i = 0; i < 2; i++) expect((await run(engine)).firstPieceMs).toBeGreaterThanOrEqual(145);
  });

  it("ends a delayed job at once when it is cancelled", async () => {
    const engine = new FaultInjectingEngine(new EchoEngine({ models: [model] }), { firstTokenDelayMs: 10_000 });
    const controller = new AbortController();
    const started = performance.now();
    const outcome = run(engine, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(outcome).rejects.toMatchObject({ code: "cancelled" });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("announces what the engine it wraps announces", () => {
    const inner = new EchoEngine({ models: [model], slots: 2 });
    const engine = new FaultInjectingEngine(inner, {});
    expect([engine.name, engine.models, engine.slots]).toEqual([inner.name, inner.models, inner.slots]);
  });
});
