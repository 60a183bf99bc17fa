import type { Attempt as AttemptTrace, RungTrace } from "@rung/shared/openai";
import type { ConfidenceVerdict } from "@rung/shared/routing";
import type { Attempt } from "./attempt.ts";
import { RungHeader } from "./fabric-job.ts";
import type { Ladder } from "./job-run-host.ts";

export type TraceExtra = Pick<AttemptTrace, "reason" | "confidence">;

/** One attempt's entry in the trace, as it ends now. */
export function attemptTrace(attempt: Attempt, node: string, outcome: string, extra: TraceExtra = {}): AttemptTrace {
  return {
    model: attempt.modelId,
    node,
    tier: attempt.tier,
    outcome,
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    ...(attempt.hedge && { hedge: true as const }),
    ms: Date.now() - attempt.startedAt,
    ...(attempt.firstTokenAt === undefined ? {} : { firstTokenMs: attempt.firstTokenAt - attempt.startedAt }),
    ...(extra.confidence === undefined ? {} : { confidence: extra.confidence }),
    ...(attempt.traceTokens && { tokens: tokensTrace(attempt.signals) }),
  };
}

/** Each token's signals, rounded for the trace; margins and entropies only when some token had one. */
function tokensTrace({ confidences, margins, entropies }: Attempt["signals"]): NonNullable<AttemptTrace["tokens"]> {
  const rounded = (values: readonly (number | null)[]) => values.map((v) => (v === null ? null : Math.round(v * 1e4) / 1e4));
  return {
    confidences: rounded(confidences),
    ...(margins.some((m) => m !== null) && { margins: rounded(margins) }),
    ...(entropies.some((e) => e !== null) && { entropies: rounded(entropies) }),
  };
}

/** What the commit window measured, rounded for the trace; undefined when nothing was judged or no token carried a confidence. */
export function traceConfidence(judged: Pick<ConfidenceVerdict, "mean" | "min" | "score"> | undefined): AttemptTrace["confidence"] {
  if (!judged || judged.mean === null || judged.min === null) return undefined;
  const score = judged.score && { judge: judged.score.judge, score: round(judged.score.value), bar: judged.score.bar };
  return { mean: round(judged.mean), min: round(judged.min), ...score };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The response headers of a committed answer; the Worker copies them to the client. */
export function rungHeaders(answer: { model: string; node: string; attempts: number; escalations: number }): Record<string, string> {
  return {
    [RungHeader.model]: answer.model,
    [RungHeader.node]: answer.node,
    [RungHeader.attempts]: String(answer.attempts),
    [RungHeader.escalations]: String(answer.escalations),
  };
}

/** The attempts of one request that ended without answering, in the order they ended. */
export class RunTrace {
  readonly #attempts: AttemptTrace[] = [];

  get attempts(): readonly AttemptTrace[] {
    return this.#attempts;
  }

  get length(): number {
    return this.#attempts.length;
  }

  add(entry: AttemptTrace): void {
    this.#attempts.push(entry);
  }

  /** Takes out a kept answer's `escalated` entry and returns it as the answer, saying why it was kept. */
  keep(index: number): AttemptTrace {
    const [escalated] = this.#attempts.splice(index, 1);
    return { ...escalated!, outcome: "answered", reason: `kept after every larger rung failed (${escalated!.reason})` };
  }

  /** The `rung` field of the answer: what answered, after what. */
  rung(answered: AttemptTrace, escalations: number, ladder: Pick<Ladder, "profile" | "preRouted">): RungTrace {
    return {
      model: answered.model,
      node: answered.node,
      ...(answered.tier && { tier: answered.tier }),
      escalations,
      ...(ladder.profile && { profile: ladder.profile }),
      ...(ladder.preRouted.length > 0 && { preRouted: [...ladder.preRouted] }),
      attempts: [...this.#attempts, answered],
    };
  }
}
