import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import type { Sampling } from "@rung/shared/protocol";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { TEST_MODELS } from "../../tools/gguf/test-model-presets.ts";
import { estimateFootprint } from "../src/engines/estimate-footprint.ts";
import { LlamaCppEngine } from "../src/engines/llama-cpp-engine.ts";
import { ModelLoadError } from "../src/engines/model-load-error.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";

/** Real node-llama-cpp on generated models, sized by its own memory estimates. */
const CONTEXT = 256;
const GREEDY: Sampling = { temperature: 0, topP: 1, stop: [], maxTokens: 8 };
const base = { gpu: false, threads: 1, contextSize: CONTEXT } as const;

let tiny: string;
let small: string;

beforeAll(async () => {
  const dir = join(tmpdir(), "rung-native-node-models");
  tiny = await ensureTestModel(TEST_MODELS.tiny, dir);
  small = await ensureTestModel(TEST_MODELS.small, dir);
});

const engines: LlamaCppEngine[] = [];
afterAll(async () => {
  for (const engine of engines) await engine.dispose();
});

async function load(options: Omit<Parameters<typeof LlamaCppEngine.load>[0], keyof typeof base>): Promise<LlamaCppEngine> {
  const engine = await LlamaCppEngine.load({ ...base, ...options });
  engines.push(engine);
  return engine;
}

async function text(engine: LlamaCppEngine, model: string): Promise<string> {
  let out = "";
  await engine.generate(
    { model, input: { kind: "completion", prompt: "Once upon a time" }, sampling: GREEDY },
    { signal: new AbortController().signal, onPiece: (piece) => (out += piece.text) },
  );
  return out;
}

describe("LlamaCppEngine memory", () => {
  it("loads two models at once within free memory, both generate, and reports the CPU it runs on", async () => {
    const engine = await load({
      models: [
        { id: "tiny", path: tiny },
        { id: "small", path: small },
      ],
      slots: 2,
    });
    expect(engine.models.map((m) => [m.id, m.slots])).toEqual([
      ["tiny", 2],
      ["small", 2],
    ]);
    expect(engine.slots).toBe(4);
    const [a, b] = await Promise.all([text(engine, "tiny"), text(engine, "small")]);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(engine.hardware).toEqual({ backend: "cpu", devices: [], ramTotalBytes: totalmem(), cpuCores: expect.any(Number) });
    expect(await engine.freeVramBytes()).toBeUndefined();
  });

  it("refuses a model too large for the memory limit, saying what it needs and what to try", async () => {
    const error = await load({ models: [{ id: "small", path: small }], slots: 2, memoryLimitBytes: 1_000_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelLoadError);
    const { modelId, message } = error as ModelLoadError;
    expect(modelId).toBe("small");
    expect(message).toMatch(
      /^small does not fit: it needs about [\d.]+ MB \(weights [\d.]+ MB, one slot of 256 tokens [\d.]+ (KB|MB)\), but only 1\.0 MB of the 1\.0 MB memory limit is left\./,
    );
    expect(message).toMatch(/smaller quantization.*--slots.*--context-size/);
  });

  it("uses fewer slots when the wanted ones do not fit, and says so", async () => {
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.warn });
    const footprint = await estimateFootprint(llama, small, CONTEXT);
    const [two, three] = [await footprint.contextBytes(2), await footprint.contextBytes(3)];
    await llama.dispose();
    expect(three).toBeGreaterThan(two);
    const logger = memoryLogger();
    const engine = await load({
      models: [{ id: "small", path: small }],
      slots: 4,
      memoryLimitBytes: footprint.weightsBytes + Math.floor((two + three) / 2),
      logger,
    });
    expect(engine.models[0]!.slots).toBe(2);
    expect(engine.slots).toBe(2);
    // The limit is named once, with its figure.
    expect(logger.lines.find((l) => l.startsWith("warn small: 4 slots of 256 tokens do not fit"))).toMatch(
      /^warn small: 4 slots of 256 tokens do not fit in the [\d.]+ [KMG]B memory limit; serving 2 at once\./,
    );
    const both = await Promise.all([text(engine, "small"), text(engine, "small")]);
    expect(both[0]).toBe(both[1]);
  });
});
