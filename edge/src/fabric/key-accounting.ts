import type { Policy, RoutedModel } from "@rung/shared/routing";
import type { FabricJob } from "./fabric-job.ts";
import type { RunSummary } from "./job-run-host.ts";
import { type Admission, KeyLimiter, type Refusal } from "./key-limiter.ts";
import type { UsageLedger, UsageQuery, UsageRow } from "./usage-ledger.ts";

type Admitted = Extract<Admission, { ok: true }>;

/**
 * What each key may spend in this pool and what it spent: admission against
 * its limits before a request runs, and once it ends (however it ends) its
 * place and tokens given back to the limiter and its usage in the ledger.
 */
export class KeyAccounting {
  readonly #limiter = new KeyLimiter();
  /** Requests admitted and not yet ended, with what to give back. */
  readonly #open = new Map<FabricJob, Admitted>();

  constructor(private readonly ledger: UsageLedger) {}

  /** Go ahead (with the `x-ratelimit-*` headers for the answer), or the 429 to send. */
  admit(job: FabricJob): Admitted | Refusal {
    const { caller } = job;
    const monthUsed = caller.limits.monthlyTokens === undefined ? 0 : this.ledger.monthTokens(caller.keyId);
    const admission = this.#limiter.admit(caller, job.promptTokens, monthUsed);
    if (admission.ok) this.#open.set(job, admission);
    return admission;
  }

  /** The request ended: free its place, count its tokens, and record its usage at the operator's prices. */
  settle(job: FabricJob, summary: Pick<RunSummary, "model" | "usage">, policy: Policy, model: RoutedModel | undefined): void {
    const usage = summary.usage;
    this.#open.get(job)?.release(usage ? usage.promptTokens + usage.completionTokens : 0);
    this.#open.delete(job);
    if (!usage || !summary.model) return;
    const price = policy.prices[summary.model] ?? model?.pricePerMillionTokens;
    this.ledger.record({
      keyId: job.caller.keyId,
      model: summary.model,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      ...(model && { parameters: model.parameters }),
      ...(price !== undefined && { pricePerMillionTokens: price }),
    });
  }

  usage(query: UsageQuery): UsageRow[] {
    return this.ledger.query(query);
  }
}
