import { type GeneratedPiece, lowerKnown, marginOfTopLogprobs } from "@rung/shared/node";
import type { ChatCompletionChunk } from "@wllama/wllama/esm/index.js";

/** Alternatives asked for per token when a job wants token signals: the runner-up is all a margin needs. */
export const SIGNAL_TOP_LOGPROBS = 2;

/**
 * One streamed chat chunk of wllama (llama-server's handling) as a piece: its
 * text and the least confident of its tokens, as the native agent reports, and
 * with `tokenSignals` the smallest margin, from each token's top two (asked for
 * with `top_logprobs: 2`; llama-server takes them from the same softmax over the
 * whole vocabulary as the chosen token's). Entropy stays null: only the top few
 * probabilities come back, not the distribution. `tokens` counts the chunk's
 * tokens; undefined for a chunk with neither text nor tokens.
 */
export function wllamaPiece(chunk: ChatCompletionChunk, tokenSignals = false): (GeneratedPiece & { tokens: number }) | undefined {
  const choice = chunk.choices[0];
  const text = choice?.delta.content ?? "";
  const logprobs = choice?.logprobs?.content ?? [];
  if (!text && logprobs.length === 0) return undefined;
  const confidence = logprobs.length > 0 ? Math.min(1, ...logprobs.map((entry) => Math.exp(entry.logprob))) : null;
  const piece = { text, confidence, tokens: Math.max(1, logprobs.length) };
  if (!tokenSignals) return piece;
  let margin: number | null = null;
  for (const entry of logprobs) margin = lowerKnown(margin, marginOfTopLogprobs(entry.logprob, entry.top_logprobs));
  return { ...piece, margin, entropy: null };
}
