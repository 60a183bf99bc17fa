import type { ProfileName } from "./profile-names.ts";

/** How much a profile cares about each property of a rung; only ratios matter. */
export interface ProfileWeights {
  quality: number;
  latency: number;
  cost: number;
  context: number;
}

/*
 * Why these numbers. Each property is scaled to 0..1 against the best or worst
 * capable rung (see startRung), so a weight says how many "whole catalog spreads"
 * of one property a profile trades for another.
 *
 * balanced: escalation already buys quality on demand (a weak answer climbs), so
 * the start rung should be the one that is cheap and quick to try; quality only
 * breaks near-ties between rungs of similar cost. Cost weighs twice latency
 * because a bigger model costs more on every token, prompt included, while its
 * slowness shows only while the answer streams. On a 0.5B/3B/7B catalog this
 * starts at 0.5B; a larger start needs a small model that is both slower and
 * pricier, which a sane catalog does not have.
 * budget: the same, with cost dominating, so it never starts above the cheapest.
 * quality: only quality; it starts where balanced would end.
 * speed: latency dominates wherever speeds differ beyond their noise (see
 * creditedSpeeds). Rungs within it count as equally fast, and then quality and
 * cost choose at balanced's ratio (1:2): on like hardware the smaller model is
 * the likelier faster one, so a 0.5B/3B/7B ladder on one GPU (3x and 8x apart,
 * inside the noise or near it) still starts at 0.5B; with quality alone breaking
 * the tie it would start on the best model inside the noise instead.
 * long_context: context dominates; a little cost keeps equally long contexts on
 * the cheaper rung.
 */
export const DEFAULT_PROFILE_WEIGHTS: Readonly<Record<ProfileName, ProfileWeights>> = {
  quality: { quality: 4, latency: 0, cost: 0, context: 0 },
  balanced: { quality: 1, latency: 1, cost: 2, context: 0 },
  speed: { quality: 0.5, latency: 4, cost: 1, context: 0 },
  budget: { quality: 0.25, latency: 0.5, cost: 4, context: 0 },
  long_context: { quality: 0.5, latency: 0, cost: 1, context: 4 },
};
