import type { LlamaContextSequence } from "node-llama-cpp";
import { tokenizeWithBos } from "./build-prompt.ts";

/**
 * Decoding speed in tokens/s: a short greedy generation on `sequence`, timed
 * from the first generated token so prompt processing does not count. The edge
 * ranks nodes serving the same model by it. 0 means "unknown" to the router:
 * the answer when the model ends its answer at once or `signal` stops the probe.
 */
export async function measureTokensPerSecond(sequence: LlamaContextSequence, signal?: AbortSignal, tokens = 16): Promise<number> {
  let count = 0;
  let firstAt = 0;
  for await (const _token of sequence.evaluate(tokenizeWithBos(sequence.model, "Once upon a time"), { temperature: 0 })) {
    if (signal?.aborted) return 0;
    count += 1;
    if (count === 1) firstAt = performance.now();
    if (count >= tokens) break;
  }
  if (count < 2) return 0;
  const seconds = (performance.now() - firstAt) / 1000;
  return Math.round(((count - 1) / seconds) * 10) / 10;
}
