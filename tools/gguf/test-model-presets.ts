import type { TestModelOptions } from "./test-model-options.ts";

/** Named presets used by tests and `npm start`. File name is `<name>.gguf`. */
export const TEST_MODELS = {
  /** 164,928 params, 0.67 MB (f32). Unsure: greedy token confidence ~0.08. */
  tiny: { name: "rung-tiny", embeddingLength: 64, layers: 2, heads: 4, contextLength: 512, seed: 1, outputScale: 1 },
  /** 1,116,800 params, 4.5 MB (f32). Confident: greedy token confidence ~0.5. */
  small: {
    name: "rung-small",
    embeddingLength: 128,
    layers: 4,
    heads: 4,
    contextLength: 4096,
    seed: 2,
    outputScale: 4,
  },
  /**
   * rung-tiny's shape (164,928 params) with sharp output weights: a small model that is sure
   * of itself. Greedy token confidence ~0.7-0.8 over 16 tokens, against rung-tiny's ~0.08.
   */
  sure: { name: "rung-sure", embeddingLength: 64, layers: 2, heads: 4, contextLength: 512, seed: 3, outputScale: 10 },
} as const satisfies Record<string, TestModelOptions & { name: string }>;

export type TestModelPreset = keyof typeof TEST_MODELS;
