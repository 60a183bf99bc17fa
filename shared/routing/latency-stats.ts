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
  /** The same samples in order, kept up to date as they come: every routing decision reads a percentile. */
  sorted: number[];
}

/** Recent first-token times per model, the last `capacity` of each. */
export class FirstTokenStats {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly capacity = 64) {}

  record(modelId: string, ms: number): void {
    let ring = this.rings.get(modelId);
    if (!ring) {
      ring = { samples: [], next: 0, sorted: [] };
      this.rings.set(modelId, ring);
    }
    if (ring.samples.length < this.capacity) {
      ring.samples.push(ms);
    } else {
      ring.sorted.splice(sortedIndex(ring.sorted, ring.samples[ring.next]!), 1);
      ring.samples[ring.next] = ms;
      ring.next = (ring.next + 1) % this.capacity;
    }
    ring.sorted.splice(sortedIndex(ring.sorted, ms), 0, ms);
  }

  count(modelId: string): number {
    return this.rings.get(modelId)?.samples.length ?? 0;
  }

  /** Nearest-rank percentile (p in 0..1); undefined while fewer than minSamples are known. */
  percentile(modelId: string, p: number, minSamples: number): number | undefined {
    const ring = this.rings.get(modelId);
    if (!ring || ring.samples.length === 0 || ring.samples.length < minSamples) return undefined;
    const sorted = ring.sorted;
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
    return sorted[rank - 1];
  }
}

/** Where `value` is, or would go, in an ascending list. */
function sortedIndex(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
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
