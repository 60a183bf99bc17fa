import type { CatalogEntry } from "./catalog.ts";
import { medianOfKnown } from "./median-of-known.ts";
import type { ProfileWeights } from "./profile-weights.ts";

/** Answer length assumed when the client set no max_tokens: a typical chat reply. */
export const TYPICAL_ANSWER_TOKENS = 256;

/**
 * Self-hosted models have no price, so their cost is modelled as proportional to
 * size at a nominal USD 0.02 per billion parameters per million tokens: a 7B model
 * then costs about what hosted APIs charge for one (tenths of a dollar per million
 * tokens), so priced upstreams and local rungs compare on one scale. An operator
 * who knows better sets `prices` for the local models.
 */
const NOMINAL_USD_PER_BILLION_PARAMETERS = 0.02;

export interface StartRequest {
  promptTokens: number;
  maxTokens: number | undefined;
}

/**
 * Picks the rung a request starts on: the one with the best weighted score of
 * quality and context (gains) against expected decoding time and cost (losses),
 * each divided by its largest value among the rungs. `entries` are the capable
 * rungs in ladder order; a tie goes to the lower rung, so equal scores start cheap.
 */
export function startRung(entries: readonly CatalogEntry[], weights: ProfileWeights, request: StartRequest): number {
  if (entries.length === 0) return 0;
  const answerTokens = request.maxTokens ?? TYPICAL_ANSWER_TOKENS;
  const typicalSpeed = medianOfKnown(
    entries.map((entry) => fastestSpeed(entry) || undefined),
    1,
  );
  const facts = entries.map((entry) => ({
    quality: entry.quality.score,
    seconds: answerTokens / (fastestSpeed(entry) || typicalSpeed),
    cost: costPerMillion(entry) * (request.promptTokens + answerTokens),
    context: entry.contextLength,
  }));
  const max = {
    quality: Math.max(...facts.map((f) => f.quality)),
    seconds: Math.max(...facts.map((f) => f.seconds)),
    cost: Math.max(...facts.map((f) => f.cost)),
    context: Math.max(...facts.map((f) => f.context)),
  };
  let best = 0;
  let bestScore = -Infinity;
  facts.forEach((f, index) => {
    const score =
      weights.quality * share(f.quality, max.quality) -
      weights.latency * share(f.seconds, max.seconds) -
      weights.cost * share(f.cost, max.cost) +
      weights.context * share(f.context, max.context);
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  });
  return best;
}

/**
 * 0 when no node measured a speed for the model; such a rung counts as the
 * median of the measured ones (task models end a node's load-time probe at
 * once, and counting them as slowest made the start rung depend on that).
 */
function fastestSpeed(entry: CatalogEntry): number {
  return Math.max(0, ...entry.nodes.map((n) => n.tokensPerSecond));
}

function costPerMillion(entry: CatalogEntry): number {
  return entry.pricePerMillionTokens ?? (entry.parameters / 1e9) * NOMINAL_USD_PER_BILLION_PARAMETERS;
}

function share(value: number, max: number): number {
  if (value === Infinity) return 1;
  return max > 0 && max !== Infinity ? value / max : 0;
}
