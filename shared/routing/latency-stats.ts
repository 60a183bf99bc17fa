/** The hedging part of the policy (see policy.ts). */
export interface HedgeSettings {
  enabled: boolean;
  /** Which percentile of recent first-token times counts as "slow", e.g. 0.95. */
  percentile: number;
  /** Samples a model needs before its percentile is trusted. */
  minSamples: number;
  /** A fixed delay instead of the percentile; null to use the percentile. */
  afterMs: number | null;
  /** The least delay a percentile may give, so fast models are not hedged on noise. */
  minDelayMs: number;
}

interface Ring {
  samples: number[];
  /** Where the next sample goes once the ring is full. */
  next: number;
  /** The samples in order, kept until the next one arrives: every routing decision reads a percentile. */
  sorted: number[] | undefined;
}

/** Recent first-token times per model, the last `capacity` of each. */
export class FirstTokenStats {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly capacity = 64) {}

  record(modelId: string, ms: number): void {
    let ring = this.rings.get(modelId);
    if (!ring) {
      ring = { samples: [], next: 0, sorted: undefined };
      this.rings.set(modelId, ring);
    }
    ring.sorted = undefined;
    if (ring.samples.length < this.capacity) {
      ring.samples.push(ms);
    } else {
      ring.samples[ring.next] = ms;
      ring.next = (ring.next + 1) % this.capacity;
    }
  }

  count(modelId: string): number {
    return this.rings.get(modelId)?.samples.length ?? 0;
  }

  /** Nearest-rank percentile (p in 0..1); undefined while fewer than minSamples are known. */
  percentile(modelId: string, p: number, minSamples: number): number | undefined {
    const ring = this.rings.get(modelId);
    if (!ring || ring.samples.length === 0 || ring.samples.length < minSamples) return undefined;
    ring.sorted ??= [...ring.samples].sort((a, b) => a - b);
    const sorted = ring.sorted;
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
    return sorted[rank - 1];
  }
}

/**
 * How long to wait for a first token before sending the same job to a
 * second node; null means do not hedge. Without enough history there is no
 * telling slow from normal, so no hedge.
 */
export function hedgeDelayMs(stats: FirstTokenStats, modelId: string, settings: HedgeSettings): number | null {
  if (!settings.enabled) return null;
  if (settings.afterMs !== null) return settings.afterMs;
  const slow = stats.percentile(modelId, settings.percentile, settings.minSamples);
  return slow === undefined ? null : Math.max(slow, settings.minDelayMs);
}
