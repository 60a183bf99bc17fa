/** Wide enough that decoding takes real time (~5M parameters), small enough to make in a second. */
export const benchModel = { name: "rung-bench", embeddingLength: 256, layers: 6, heads: 8, contextLength: 2048, seed: 3, outputScale: 4 };
