/** The retry part of the policy (see policy.ts). */
export interface RetrySettings {
  /** Retries after the first attempt fails. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * How long to wait before retry number `retryIndex` (0 for the first):
 * exponential with full jitter, so requests that failed together do not
 * all come back together. `random` is uniform in [0, 1).
 */
export function retryDelayMs(
  retryIndex: number,
  settings: Pick<RetrySettings, "baseDelayMs" | "maxDelayMs">,
  random: () => number,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}
