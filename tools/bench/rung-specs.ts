import { parameterCount, type TestModelOptions } from "../gguf/test-model-options.ts";

/**
 * Three rungs of random-weight llama models, ~0.17M, ~1.1M and ~6.4M parameters.
 * Wider and deeper models get larger output scales, so larger means surer, and
 * each model's confidence varies from prompt to prompt, which is what the ladder judges.
 */
export const rungSpecs = [
  { name: "ladder-s", embeddingLength: 64, layers: 2, heads: 4, contextLength: 2048, seed: 11, outputScale: 3 },
  { name: "ladder-m", embeddingLength: 128, layers: 4, heads: 4, contextLength: 2048, seed: 12, outputScale: 4 },
  { name: "ladder-l", embeddingLength: 256, layers: 6, heads: 8, contextLength: 2048, seed: 13, outputScale: 10 },
] as const satisfies readonly TestModelOptions[];

/** Each rung's parameter count, as the file has it (the catalog should announce the same). */
export const parametersOf = new Map<string, number>(rungSpecs.map((spec) => [spec.name, parameterCount(spec)]));
