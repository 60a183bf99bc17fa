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
 * speed: latency dominates; quality breaks ties between equally fast rungs.
 * long_context: context dominates; a little cost keeps equally long contexts on
 * the cheaper rung.
 */
export const DEFAULT_PROFILE_WEIGHTS: Readonly<Record<ProfileName, ProfileWeights>> = {
  quality: { quality: 4, latency: 0, cost: 0, context: 0 },
  balanced: { quality: 1, latency: 1, cost: 2, context: 0 },
  speed: { quality: 0.5, latency: 4, cost: 0, context: 0 },
  budget: { quality: 0.25, latency: 0.5, cost: 4, context: 0 },
  long_context: { quality: 0.5, latency: 0, cost: 1, context: 4 },
};
