/** The breaker part of the policy (see policy.ts). */
export interface BreakerSettings {
  /** Consecutive failures of one model on one node that open its breaker. */
  failureThreshold: number;
  /** How long an open breaker refuses work before it lets one probe through. */
  openMs: number;
}

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerEntry {
  nodeId: string;
  modelId: string;
  state: BreakerState;
  consecutiveFailures: number;
  /** When the breaker last opened; null while it is closed. */
  openedAt: number | null;
  /** When it lets a probe through; null while it is closed. */
  retryAt: number | null;
}

interface Pair {
  failures: number;
  openedAt: number | null;
  /** When the half-open probe was dispatched; null when none is out. */
  probeAt: number | null;
}

/**
 * Circuit breakers per node × model: a model that keeps failing on one node
 * is skipped there for a while instead of burning every request's retries,
 * then tried again with a single probe. Only pairs that have failed are kept.
 */
export class BreakerBoard {
  private readonly byNode = new Map<string, Map<string, Pair>>();

  constructor(
    private settings: BreakerSettings,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** New thresholds from here on; open breakers stay open, and failure counts stay. */
  reconfigure(settings: BreakerSettings): void {
    this.settings = settings;
  }

  state(nodeId: string, modelId: string): BreakerState {
    return this.stateOf(this.get(nodeId, modelId));
  }

  /** Whether a job of this model may go to this node now. */
  canDispatch(nodeId: string, modelId: string): boolean {
    const record = this.get(nodeId, modelId);
    switch (this.stateOf(record)) {
      case "closed":
        return true;
      case "open":
        return false;
      case "half_open":
        return !this.probeOut(record!);
    }
  }

  /** Call when a job is sent; in half-open it is the one probe. */
  onDispatch(nodeId: string, modelId: string): void {
    const record = this.get(nodeId, modelId);
    if (record && this.stateOf(record) === "half_open") record.probeAt = this.now();
  }

  /** A success closes the breaker and forgets the failures before it. */
  onSuccess(nodeId: string, modelId: string): void {
    const models = this.byNode.get(nodeId);
    models?.delete(modelId);
    if (models?.size === 0) this.byNode.delete(nodeId);
  }

  onFailure(nodeId: string, modelId: string): void {
    let models = this.byNode.get(nodeId);
    if (!models) {
      models = new Map();
      this.byNode.set(nodeId, models);
    }
    let record = models.get(modelId);
    if (!record) {
      record = { failures: 0, openedAt: null, probeAt: null };
      models.set(modelId, record);
    }
    const state = this.stateOf(record);
    record.failures += 1;
    // A failed probe reopens at once; a closed breaker opens at the threshold;
    // late failures of jobs sent before it opened do not extend an open one.
    if (state === "half_open" || (state === "closed" && record.failures >= this.settings.failureThreshold)) {
      record.openedAt = this.now();
      record.probeAt = null;
    }
  }

  /** Every pair that has failed since its last success, for the status page. */
  snapshot(): BreakerEntry[] {
    const entries: BreakerEntry[] = [];
    for (const [nodeId, models] of this.byNode) {
      for (const [modelId, record] of models) {
        entries.push({
          nodeId,
          modelId,
          state: this.stateOf(record),
          consecutiveFailures: record.failures,
          openedAt: record.openedAt,
          retryAt: record.openedAt === null ? null : record.openedAt + this.settings.openMs,
        });
      }
    }
    return entries;
  }

  /** A node that left takes its breakers with it; if it rejoins it starts afresh. */
  forgetNode(nodeId: string): void {
    this.byNode.delete(nodeId);
  }

  private get(nodeId: string, modelId: string): Pair | undefined {
    return this.byNode.get(nodeId)?.get(modelId);
  }

  private stateOf(record: Pair | undefined): BreakerState {
    if (!record || record.openedAt === null) return "closed";
    return this.now() < record.openedAt + this.settings.openMs ? "open" : "half_open";
  }

  /**
   * Whether the probe is still out. One that never reported (its job lost
   * without an outcome) expires after openMs, so the pair is not shut forever.
   */
  private probeOut(record: Pair): boolean {
    return record.probeAt !== null && this.now() < record.probeAt + this.settings.openMs;
  }
}
