/** Where a request stands on its ladder, as far as the order of its rungs goes. */
export interface RungOrderState {
  /** Rungs in the request's ladder, smallest first. */
  rungCount: number;
  /** Where the profile (and pre-routing) started it; rungs below are fallbacks for errors only. */
  startIndex: number;
  /** The lowest rung still allowed: a climb leaves the rungs below behind. */
  floor: number;
  /** Times the request climbed because an answer looked weak. */
  climbs: number;
  /** Errors the request met so far (any attempt, any rung). */
  errors: number;
}

/**
 * Rungs in the order a request may use them: from the floor up (a busy
 * rung spills over to a larger one rather than wait), then, once something
 * failed and before any climb, the rungs below the start as fallbacks.
 */
export function rungOrder({ rungCount, startIndex, floor, climbs, errors }: RungOrderState): number[] {
  const order: number[] = [];
  for (let r = floor; r < rungCount; r++) order.push(r);
  if (climbs === 0 && errors > 0) for (let r = startIndex - 1; r >= 0; r--) order.push(r);
  return order;
}
