import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@rung/shared/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { TEST_MODELS } from "../../tools/gguf/test-model-presets.ts";
import { LlamaCppEngine } from "../src/engines/llama-cpp-engine.ts";
import { generateWith } from "./helpers/generate-with.ts";

// LlamaCppEngine's warm-up (chat template, speed probe), which the agent runs after joining rather than at load.

const MODEL = "tiny";
let path: string;

beforeAll(async () => {
  path = await ensureTestModel(TEST_MODELS.tiny, join(tmpdir(), "rung-native-node-models"));
});

const load = (slots: number) => LlamaCppEngine.load({ models: [{ id: MODEL, path }], gpu: false, threads: 1, slots, contextSize: 256 });

const request: GenerationRequest = {
  model: MODEL,
  input: { kind: "completion", prompt: "Once" },
  sampling: { temperature: 0, topP: 1, stop: [], maxTokens: 8 },
};

describe("LlamaCppEngine.warmUp", () => {
  let engine: LlamaCppEngine;
  beforeAll(async () => {
    engine = await load(1);
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it("leaves the speed unmeasured at load, then times each model and announces the figure", async () => {
    expect(engine.models[0]!.tokensPerSecond).toBe(0);
    const warmUp = engine.warmUp();
    // Called again while it runs: the same run, not a second probe.
    expect(engine.warmUp()).toBe(warmUp);
    const speeds = await warmUp;
    expect(speeds.get(MODEL)).toBeGreaterThan(0);
    expect(engine.models[0]!.tokensPerSecond).toBe(speeds.get(MODEL));
  });

  it("shares the one sequence with a job that comes meanwhile: they take turns, and both end", async () => {
    const other = await load(1);
    try {
      const warmUp = other.warmUp();
      const answer = await generateWith(other, request);
      expect(answer.usage.completionTokens).toBe(8);
      expect((await warmUp).get(MODEL)).toBeGreaterThan(0);
    } finally {
      await other.dispose();
    }
  });
});

describe("LlamaCppEngine.dispose during the warm-up", () => {
  it("stops it and frees the model; the speed stays unmeasured", async () => {
    const engine = await load(1);
    const warmUp = engine.warmUp();
    await engine.dispose();
    expect(await warmUp).toEqual(new Map());
    expect(engine.models[0]!.tokensPerSecond).toBe(0);
  });
});
