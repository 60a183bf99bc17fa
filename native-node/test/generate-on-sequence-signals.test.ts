import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GeneratedPiece } from "@rung/shared/node";
import { MAX_TOKEN_ENTROPY, type Sampling } from "@rung/shared/protocol";
import {
  getLlama,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VOCAB_SIZE } from "../../tools/gguf/llama-vocab.ts";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { TEST_MODELS } from "../../tools/gguf/test-model-presets.ts";
import { tokenizeWithBos } from "../src/engines/build-prompt.ts";
import { generateOnSequence } from "../src/engines/generate-on-sequence.ts";

/**
 * Margins and entropies (protocol 1.7) from real node-llama-cpp on a generated
 * model, checked against the distribution node-llama-cpp hands out for the same
 * tokens, read here without the engine's code. Every generated model's tokens
 * are single printable bytes, so each token is one piece and the two line up.
 */
const GREEDY: Sampling = { temperature: 0, topP: 1, stop: [], maxTokens: 24 };
const PROMPT = "Once upon a time";

let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;
let engineSide: LlamaContextSequence;
let referenceSide: LlamaContextSequence;

beforeAll(async () => {
  const path = await ensureTestModel(TEST_MODELS.tiny, join(tmpdir(), "rung-native-node-models"));
  llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.warn });
  model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  context = await model.createContext({ contextSize: 256, sequences: 2, threads: 1 });
  engineSide = context.getSequence();
  referenceSide = context.getSequence();
});

afterAll(async () => {
  await context?.dispose();
  await model?.dispose();
  await llama?.dispose();
});

async function generate(sampling: Sampling, tokenSignals?: boolean): Promise<GeneratedPiece[]> {
  await engineSide.clearHistory();
  const pieces: GeneratedPiece[] = [];
  const prompt = { tokens: tokenizeWithBos(model, PROMPT), stopTokens: [], stopTexts: [] };
  const options = { signal: new AbortController().signal, onPiece: (piece: GeneratedPiece) => pieces.push(piece) };
  await generateOnSequence(engineSide, prompt, sampling, tokenSignals === undefined ? options : { ...options, tokenSignals });
  return pieces;
}

/** What node-llama-cpp says of each greedy token: its confidence and the whole distribution it came from. */
async function reference(count: number): Promise<{ token: Token; confidence: number; probabilities: Map<Token, number> }[]> {
  await referenceSide.clearHistory();
  const steps = [];
  for await (const step of referenceSide.evaluateWithMetadata(
    tokenizeWithBos(model, PROMPT),
    { confidence: true, probabilities: true },
    { temperature: 0 },
  )) {
    steps.push(step);
    if (steps.length >= count) break;
  }
  return steps;
}

describe("generateOnSequence with tokenSignals", () => {
  it("reports each greedy token's margin as its probability minus the runner-up's, and the distribution's entropy", async () => {
    const pieces = await generate(GREEDY, true);
    const steps = await reference(pieces.length);
    expect(pieces.length).toBe(24);
    expect(pieces.map((p) => p.text).join("")).toBe(steps.map((s) => model.detokenize([s.token])).join(""));
    for (const [i, piece] of pieces.entries()) {
      const { token, confidence, probabilities } = steps[i]!;
      // node-llama-cpp's confidence is the map's own number for the chosen token: one source for all three signals.
      expect(probabilities.get(token)).toBe(confidence);
      const [best, second] = [...probabilities.values()].sort((a, b) => b - a) as [number, number];
      // Greedy: the chosen token is the most likely one.
      expect(confidence).toBe(best);
      expect(piece.confidence).toBe(confidence);
      expect(piece.margin).toBeCloseTo(confidence - second, 12);
      let entropy = 0;
      for (const p of probabilities.values()) if (p > 0) entropy -= p * Math.log(p);
      expect(piece.entropy).toBeCloseTo(entropy, 9);
    }
  });

  it("keeps margins in 0..1 and entropies in 0..ln(vocabulary) when it samples", async () => {
    const pieces = await generate({ temperature: 1, topP: 1, stop: [], maxTokens: 24, seed: 7 }, true);
    expect(pieces.length).toBeGreaterThan(0);
    for (const { margin, entropy } of pieces) {
      expect(margin).toBeGreaterThanOrEqual(0);
      expect(margin).toBeLessThanOrEqual(1);
      expect(entropy).toBeGreaterThanOrEqual(0);
      expect(entropy).toBeLessThanOrEqual(Math.min(MAX_TOKEN_ENTROPY, Math.log(VOCAB_SIZE) + 1e-9));
    }
  });

  it.each([
    ["not asked", undefined],
    ["asked not to", false],
  ])("reports neither when %s, and its confidences are the same", async (_name, tokenSignals) => {
    const plain = await generate(GREEDY, tokenSignals);
    const signalled = await generate(GREEDY, true);
    for (const piece of plain) {
      expect(piece).not.toHaveProperty("margin");
      expect(piece).not.toHaveProperty("entropy");
    }
    expect(plain).toEqual(signalled.map(({ text, confidence }) => ({ text, confidence })));
  });
});
