import type { LlamaContext } from "node-llama-cpp";
import { tokenizeWithBos } from "./build-prompt.ts";

/**
 * Decoding speed in tokens/s: a short greedy generation, timed from the first
 * generated token so prompt processing does not count. The edge ranks nodes
 * serving the same model by it.
 */
export async function measureTokensPerSecond(context: LlamaContext, tokens = 16): Promise<number> {
  const sequence = context.getSequence();
  try {
    let count = 0;
    let firstAt = 0;
    for await (const _token of sequence.evaluate(tokenizeWithBos(sequence.model, "Once upon a time"), { temperature: 0 })) {
      count += 1;
      if (count === 1) firstAt = performance.now();
      if (count >= tokens) break;
    }
    // A model that ends its answer at once leaves nothing to time; 0 means "unknown" to the router.
    if (count < 2) return 0;
    const seconds = (performance.now() - firstAt) / 1000;
    return Math.round(((count - 1) / seconds) * 10) / 10;
  } finally {
    await sequence.dispose();
  }
}
