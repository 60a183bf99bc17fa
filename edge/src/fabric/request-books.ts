import type { Policy, RoutedModel } from "@rung/shared/routing";
import { TIERS, type Tier } from "../keys/caller.ts";
import type { MetricFamily } from "../metrics/index.ts";
import type { FabricJob } from "./fabric-job.ts";
import { FabricMetrics, type LiveState, type MetricsSnapshot } from "./fabric-metrics.ts";
import type { RunSummary } from "./job-run-host.ts";
import { type Admission, KeyLimiter, type Refusal } from "./key-limiter.ts";
import { UsageLedger, type UsageQuery, type UsageRow } from "./usage-ledger.ts";

type Admitted = Extract<Admission, { ok: true }>;

/**
 * How long the object stays in memory after a request of a key with a rate
 * limit: as long as the request can count in the key's window. A hibernating
 * object is rebuilt from storage, and the windows live in memory only: without
 * this, a client that paused long enough for the object to hibernate (seconds
 * when idle) would find its window empty. A pending timer keeps it awake.
 */
const RATE_WINDOW_MS = 61_000;

/** Where the metrics and answers per tier are kept, so they outlive hibernation; written at most this often. */
const BOOKS_KEY = "request-books";
const BOOKS_SAVE_MS = 5_000;

interface SavedBooks {
  metrics: Partial<MetricsSnapshot>;
  servedByTier: Record<Tier, number>;
}

/**
 * What the pool counts of every request: what its key may spend (admission
 * against its limits before it runs) and what it spent (its place and tokens
 * given back to the limiter, its usage in the ledger once it ends, however it
 * ends), the metrics, and answers by the tier of the node that gave them.
 */
export class RequestBooks {
  readonly #limiter = new KeyLimiter();
  readonly #ledger: UsageLedger;
  readonly #metrics = new FabricMetrics();
  /** Requests admitted and not yet ended, with what to give back. */
  readonly #open = new Map<FabricJob, Admitted>();
  /** Answers since the object started, by the tier of the node that gave them. */
  readonly #servedByTier: Record<Tier, number> = { private: 0, public: 0 };
  /** Until when some rate window holds requests or tokens; the timer below re-arms itself until then. */
  #awakeUntil = 0;
  #awake: ReturnType<typeof setTimeout> | undefined;
  /** Set while counts changed and are not saved yet. */
  #saving: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly policy: () => Policy,
    /** What a model is, as a node that serves it (or an upstream) announced it: its parameters and price. */
    private readonly modelOf: (modelId: string) => RoutedModel | undefined,
  ) {
    this.#ledger = new UsageLedger(storage.sql);
    const saved = storage.kv.get<SavedBooks>(BOOKS_KEY);
    if (saved) {
      this.#metrics.restore(saved.metrics);
      for (const tier of TIERS) this.#servedByTier[tier] += saved.servedByTier[tier] ?? 0;
    }
  }

  /** Go ahead (with the `x-ratelimit-*` headers for the answer), or the 429 to send. */
  admit(job: FabricJob): Admitted | Refusal {
    const { caller } = job;
    const monthUsed = caller.limits.monthlyTokens === undefined ? 0 : this.#ledger.monthTokens(caller.keyId);
    const admission = this.#limiter.admit(caller, job.promptTokens, monthUsed);
    if (admission.ok) {
      this.#open.set(job, admission);
      if (caller.limits.rpm !== undefined || caller.limits.tpm !== undefined) this.#stayAwake();
    } else {
      this.#metrics.rateLimited(caller.keyId);
      this.#metrics.refused(job.model, admission.status);
      this.#changed();
    }
    return admission;
  }

  /** An admitted request the pool could not plan (no node that can serve it): its place back, counted as refused. */
  refused(job: FabricJob, status: number): void {
    this.#release(job, 0);
    this.#metrics.refused(job.model, status);
    this.#changed();
  }

  /** The request ended: free its place, count its tokens, record its usage at the operator's prices, observe it. */
  finished(job: FabricJob, summary: RunSummary): void {
    const { usage, model } = summary;
    this.#release(job, usage ? usage.promptTokens + usage.completionTokens : 0);
    const answered = summary.status === 200 ? summary.attempts.at(-1) : undefined;
    if (answered?.tier) this.#servedByTier[answered.tier]++;
    if (usage && model) this.#record(job, model, usage);
    this.#metrics.requestEnded({
      model: model ?? job.model,
      status: summary.status,
      totalMs: summary.totalMs,
      ...(summary.firstTokenMs !== undefined && { firstTokenMs: summary.firstTokenMs }),
      ...(summary.nodeMs !== undefined && { nodeMs: summary.nodeMs }),
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      attempts: summary.attempts,
    });
    this.#changed();
  }

  get servedByTier(): Record<Tier, number> {
    return { ...this.#servedByTier };
  }

  families(pool: string, live: LiveState): MetricFamily[] {
    return this.#metrics.families(pool, live);
  }

  usage(query: UsageQuery): UsageRow[] {
    return this.#ledger.query(query);
  }

  #release(job: FabricJob, usedTokens: number): void {
    const admission = this.#open.get(job);
    if (!admission) return;
    admission.release(usedTokens);
    this.#open.delete(job);
    // Tokens count in the key's window from now on.
    if (job.caller.limits.tpm !== undefined && usedTokens > 0) this.#stayAwake();
  }

  /** Counts changed: save them within `BOOKS_SAVE_MS` (a storage write holds answers behind the output gate, so not per request). */
  #changed(): void {
    this.#saving ??= setTimeout(() => {
      this.#saving = undefined;
      const books: SavedBooks = { metrics: this.#metrics.snapshot(), servedByTier: this.servedByTier };
      this.storage.kv.put(BOOKS_KEY, books);
    }, BOOKS_SAVE_MS);
  }

  #stayAwake(): void {
    this.#awakeUntil = Date.now() + RATE_WINDOW_MS;
    this.#awake ??= setTimeout(() => this.#stillAwake(), RATE_WINDOW_MS);
  }

  #stillAwake(): void {
    const left = this.#awakeUntil - Date.now();
    this.#awake = left > 0 ? setTimeout(() => this.#stillAwake(), left) : undefined;
  }

  #record(job: FabricJob, modelId: string, usage: NonNullable<RunSummary["usage"]>): void {
    const model = this.modelOf(modelId);
    const price = this.policy().prices[modelId] ?? model?.pricePerMillionTokens;
    this.#ledger.record({
      keyId: job.caller.keyId,
      model: modelId,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      ...(model && { parameters: model.parameters }),
      ...(price !== undefined && { pricePerMillionTokens: price }),
    });
  }
}
