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

/** How latency discounts differences between measured speeds (see creditedSpeeds). */
export interface SpeedNoise {
  /** Rungs less than this many times slower than the fastest count as fast as it. */
  ratio: number;
  /** The share of a gap's excess over `ratio` that counts, on a log scale: 1 counts all of it. */
  excessWeight: number;
}

/**
 * Agents measure a speed once, at load, and on small shared machines that figure
 * is mostly noise. On the 2-core CI machines the same generated model read 222,
 * 753 and 1,129 tok/s in three fresh fabrics (5.1x), and a 1.1M-parameter model
 * read faster than 165k-parameter ones in 2 of 3: a ratio of 6 covers that spread.
 * The tail is longer (identical agents once read 130 and 1,372 tok/s, 10.6x; with
 * the CPU busy, one model read 69 and 1,772 in twelve fabrics, 26x), so past the
 * ratio a gap counts at half its excess in log terms: 24x counts as 2x. On the
 * generated 165k/493k/1.1M ladder balanced then moves up only past 39x, while a
 * GPU at 10x a CPU still counts as 1.3x faster, which is enough for `speed`.
 */
export const SPEED_NOISE: Readonly<SpeedNoise> = { ratio: 6, excessWeight: 0.5 };

/** Speeds as measured, every difference counted: the rule before issue 14, kept for comparisons. */
export const SPEEDS_AS_MEASURED: Readonly<SpeedNoise> = { ratio: 1, excessWeight: 1 };

export interface StartRequest {
  promptTokens: number;
  maxTokens: number | undefined;
}

/**
 * Picks the rung a request starts on: the one with the best weighted score of
 * quality and context (gains) against expected decoding time and cost (losses),
 * each divided by its largest value among the rungs. `entries` are the capable
 * rungs in ladder order; a tie goes to the lower rung, so equal scores start cheap.
 * Speeds differ for latency only beyond `noise` (see creditedSpeeds): within it
 * every rung is as quick as the next, and the other weights choose.
 */
export function startRung(
  entries: readonly CatalogEntry[],
  weights: ProfileWeights,
  request: StartRequest,
  noise: SpeedNoise = SPEED_NOISE,
): number {
  if (entries.length === 0) return 0;
  const answerTokens = request.maxTokens ?? TYPICAL_ANSWER_TOKENS;
  const typicalSpeed = medianOfKnown(
    entries.map((entry) => fastestSpeed(entry) || undefined),
    1,
  );
  const speeds = creditedSpeeds(
    entries.map((entry) => fastestSpeed(entry) || typicalSpeed),
    noise,
  );
  const facts = entries.map((entry, index) => ({
    quality: entry.quality.score,
    seconds: answerTokens / speeds[index]!,
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
 * Each rung's speed as latency counts it, against the fastest rung's. Within
 * `noise.ratio` of the fastest it counts as the fastest (which of them measured
 * quicker is noise); further down it counts as slower only by the gap's excess
 * over the ratio, raised to `excessWeight`. Why not a dead band (equal inside the
 * ratio, as measured outside): this is continuous, so latency's share grows from
 * nothing as a gap leaves the noise, and a speed wobbling around the band's edge
 * moves a score a little instead of switching the start rung back and forth.
 */
export function creditedSpeeds(speeds: readonly number[], noise: SpeedNoise): number[] {
  const fastest = Math.max(...speeds);
  const ratio = Math.max(1, noise.ratio);
  return speeds.map((speed) => {
    const excess = fastest / speed / ratio;
    return excess <= 1 ? fastest : fastest / excess ** noise.excessWeight;
  });
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
