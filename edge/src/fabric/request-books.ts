import type { Policy, RoutedModel } from "@rung/shared/routing";
import type { Tier } from "../keys/caller.ts";
import type { MetricFamily } from "../metrics/index.ts";
import type { FabricJob } from "./fabric-job.ts";
import { FabricMetrics, type LiveState } from "./fabric-metrics.ts";
import type { RunSummary } from "./job-run-host.ts";
import { type Admission, KeyLimiter, type Refusal } from "./key-limiter.ts";
import { UsageLedger, type UsageQuery, type UsageRow } from "./usage-ledger.ts";

type Admitted = Extract<Admission, { ok: true }>;

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

  constructor(
    sql: SqlStorage,
    private readonly policy: () => Policy,
    /** What a model is, as a node that serves it (or an upstream) announced it: its parameters and price. */
    private readonly modelOf: (modelId: string) => RoutedModel | undefined,
  ) {
    this.#ledger = new UsageLedger(sql);
  }

  /** Go ahead (with the `x-ratelimit-*` headers for the answer), or the 429 to send. */
  admit(job: FabricJob): Admitted | Refusal {
    const { caller } = job;
    const monthUsed = caller.limits.monthlyTokens === undefined ? 0 : this.#ledger.monthTokens(caller.keyId);
    const admission = this.#limiter.admit(caller, job.promptTokens, monthUsed);
    if (admission.ok) {
      this.#open.set(job, admission);
    } else {
      this.#metrics.rateLimited(caller.keyId);
      this.#metrics.refused(job.model, admission.status);
    }
    return admission;
  }

  /** An admitted request the pool could not plan (no node that can serve it): its place back, counted as refused. */
  refused(job: FabricJob, status: number): void {
    this.#release(job, 0);
    this.#metrics.refused(job.model, status);
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
    this.#open.get(job)?.release(usedTokens);
    this.#open.delete(job);
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
