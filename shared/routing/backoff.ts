/** The retry part of the policy (see policy.ts). */
export interface RetrySettings {
  /** Retries after the first attempt fails. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The waits of an exponential backoff with full jitter. */
export interface BackoffSettings {
  /** The first wait's ceiling; it doubles with each attempt. */
  baseDelayMs: number;
  /** The most the ceiling grows to. */
  maxDelayMs: number;
  /** The shortest wait. Default 0: full jitter may retry at once. */
  minDelayMs?: number;
}

/**
 * How long to wait before retry number `retryIndex` (0 for the first):
 * exponential with full jitter, so requests that failed together do not
 * all come back together (and when an edge restarts, the nodes that all lost
 * it at the same instant do not all knock at once). `random` is uniform in [0, 1).
 */
export function retryDelayMs(retryIndex: number, settings: BackoffSettings, random: () => number): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retryIndex);
  return Math.max(settings.minDelayMs ?? 0, Math.floor(random() * ceiling));
}
