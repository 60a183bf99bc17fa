export interface BackoffOptions {
  /** Shortest wait, and the base the ceiling doubles from, in ms. Default 500. */
  minMs?: number;
  /** Longest wait in ms. Default 30000. */
  maxMs?: number;
}

/**
 * Wait before reconnect attempt `attempt` (0-based): "full jitter", uniform up
 * to a ceiling that doubles per attempt, never below `minMs`. When an edge
 * restarts, every node loses it at the same instant; the randomness spreads
 * their returns instead of having them all knock at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const minMs = options.minMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const ceiling = Math.min(maxMs, minMs * 2 ** (attempt + 1));
  return Math.max(minMs, Math.round(random() * ceiling));
}
