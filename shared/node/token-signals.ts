import { MAX_TOKEN_ENTROPY } from "../protocol/messages.ts";

/**
 * The per-token signals an engine reports when a job asks for `tokenSignals`
 * (protocol 1.7), computed alike by every engine.
 */

/**
 * Margin of a chosen token: its probability minus the most probable other
 * token's, clamped to 0..1. A sampled token that was not the most likely one
 * has a margin of 0 (the model preferred another), not a negative one.
 */
export function tokenMargin(chosen: number, runnerUp: number): number {
  const margin = chosen - runnerUp;
  return margin > 0 ? Math.min(1, margin) : 0;
}

/**
 * Entropy, in nats, of a distribution given as its probabilities: −Σ p ln p,
 * clamped to 0..MAX_TOKEN_ENTROPY (rounding can put a sum a hair below 0).
 * Zero probabilities add nothing.
 */
export function tokenEntropy(probabilities: Iterable<number>): number {
  let entropy = 0;
  for (const p of probabilities) if (p > 0) entropy -= p * Math.log(p);
  return clampEntropy(entropy);
}

/** An entropy summed elsewhere (−Σ p ln p), brought into 0..MAX_TOKEN_ENTROPY as tokenEntropy's is. */
export function clampEntropy(entropy: number): number {
  return entropy > 0 ? Math.min(MAX_TOKEN_ENTROPY, entropy) : 0;
}

/** One log-probability of an OpenAI-style `logprobs` entry. */
export interface TopLogprob {
  logprob: number;
}

/**
 * The margin of a chosen token from OpenAI-style logprobs: its own log-probability
 * and the top alternatives (`top_logprobs`, at least 2 of them, most likely
 * first). When the chosen token was the most likely it is the first entry, and
 * the runner-up is the second; otherwise the first entry is another token,
 * more likely than the chosen one (margin 0). Deciding by probability rather
 * than by token text holds even for two tokens that print alike; a chosen
 * token within rounding of the first entry counts as the first, which is
 * right to within that rounding whichever of a near tie it was (were it the
 * second, chosen minus second is 0). Null when fewer than 2 entries came.
 */
export function marginOfTopLogprobs(chosenLogprob: number, top: readonly TopLogprob[] | null | undefined): number | null {
  if (!top || top.length < 2) return null;
  const [first, second] = [...top].sort((a, b) => b.logprob - a.logprob) as [TopLogprob, TopLogprob];
  const runnerUp = chosenLogprob >= first.logprob - SAME_LOGPROB ? second : first;
  return tokenMargin(Math.exp(chosenLogprob), Math.exp(runnerUp.logprob));
}

/** Log-probabilities this close are one number rounded twice (a server's float32 and its JSON). */
const SAME_LOGPROB = 1e-6;

/** The smaller of two known values, null when neither is known: how a piece of several tokens reports margins. */
export function lowerKnown(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null) return b ?? null;
  return b == null ? a : Math.min(a, b);
}

/** The larger of two known values, null when neither is known: how a piece of several tokens reports entropies. */
export function higherKnown(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null) return b ?? null;
  return b == null ? a : Math.max(a, b);
}
