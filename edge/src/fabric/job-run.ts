// Whole on purpose: one request's state machine (attempts, ladder position, reply, timers) reads best in one place; its decisions live in shared/routing.
import type { Chunk, Done, JobError, WireError } from "@rung/shared/protocol";
import { WireErrorCode, wireError } from "@rung/shared/protocol";
import {
  type AnswerVerdict,
  answersAgree,
  answerVerdict,
  type ComparedAnswer,
  type ConfidenceVerdict,
  commitWindowVerdict,
  errorVerdict,
  opensCommitWindow,
  windowVerdict,
} from "@rung/shared/routing";
import { ApiError } from "../middleware/api-error.ts";
import { type Attempt, MAX_EARLY_CHUNKS, MAX_HELD_CHARACTERS } from "./attempt.ts";
import { busyError, exhaustedError, unavailableError, unverifiedError } from "./exhausted-error.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { JobRunHost, Ladder, Queued } from "./job-run-host.ts";
import { QueuePlace } from "./queue-place.ts";
import { RunAttempts } from "./run-attempts.ts";
import { RunLadder } from "./run-ladder.ts";
import { RunReply } from "./run-reply.ts";
import { RunTimers } from "./run-timers.ts";
import { RunTrace, type TraceExtra, traceConfidence } from "./run-trace.ts";

export { MAX_EARLY_CHUNKS };

/**
 * One client request walking its ladder: dispatch to a node of the current
 * rung, hold the first tokens and climb to a larger model when they look weak,
 * hedge on a second node when the first token is late, retry elsewhere on
 * retryable errors, wait in the queue when every capable node is busy, and
 * commit one answer. The response promise always settles: with an error before
 * any byte, or with a committed body that ends with an `end` or `fail` event.
 * What a verdict or an error means is decided in `@rung/shared/routing`; this
 * class reacts to frames and timers and carries the decisions out.
 */
export class JobRun implements Queued {
  readonly #trace = new RunTrace();
  readonly #ladder: RunLadder;
  readonly #attempts: RunAttempts;
  readonly #reply: RunReply;
  readonly #queue: QueuePlace;
  readonly response: Promise<Response>;
  readonly #timers: RunTimers<"deadline" | "commit" | "retry">;
  readonly #startedAt = Date.now();
  #ended = false;
  /** A verify-demanding key's answer from a public node, held until a second node answers the same. */
  #held: { attempt: Attempt; answer: ComparedAnswer } | undefined;

  constructor(
    readonly job: FabricJob,
    ladder: Ladder,
    private readonly host: JobRunHost,
  ) {
    this.#timers = new RunTimers(host.timers);
    this.#ladder = new RunLadder(ladder, job, host);
    this.#attempts = new RunAttempts(job, host, this.#ladder, this.#trace, (attempt, error) => this.#attemptFailed(attempt, error));
    this.#reply = new RunReply(
      job,
      this.#trace,
      this.#ladder,
      host,
      () => this.#committing(),
      () => this.abandon(),
    );
    this.#queue = new QueuePlace(host, this, (message) => this.#busy(message));
    this.response = this.#reply.response;
  }

  start(): void {
    this.#timers.set("deadline", this.host.timing.requestTimeoutMs, () => this.#onDeadline());
    this.#advance();
  }

  /** A frame from a node that runs one of this request's attempts. */
  onFrame(frame: Chunk | Done | JobError): void {
    const attempt = this.#attempts.get(frame.jobId);
    if (this.#ended || !attempt) return;
    if (frame.type === "job-error") return this.#attemptFailed(attempt, frame.error);
    for (const event of attempt.sequencer.push(frame)) {
      if (event.type === "chunk") this.#onChunk(attempt, event.chunk);
      else this.#onDone(attempt, event.done);
      if (this.#ended || !this.#attempts.isRunning(attempt)) return;
    }
    this.#attempts.checkSequence(attempt, frame);
  }

  /** The node's socket closed (or its tunnel broke) while it held an attempt of this request. */
  onNodeGone(nodeId: string): void {
    for (const attempt of this.#attempts.all().filter((a) => a.nodeId === nodeId)) {
      this.#attemptFailed(attempt, wireError(WireErrorCode.nodeDisconnected, "the node disconnected", true), false);
    }
  }

  /** Nodes joined or left while this request waited: the same rungs, served by these nodes now. */
  updateNodes(nodeIdsByModel: ReadonlyMap<string, readonly string[]>): void {
    this.#ladder.updateNodes(nodeIdsByModel);
  }

  /** A slot freed somewhere in the pool: a queued request tries again. */
  slotFreed(): void {
    if (this.#queue.waiting) this.#advance();
  }

  /** The client went away: stop the nodes and forget the job. */
  abandon(): void {
    if (this.#ended) return;
    for (const attempt of this.#attempts.all()) this.#endAttempt(attempt, "client_closed", true);
    this.#reply.abandoned();
    this.#finish();
  }

  /** Something unexpected broke while handling this job: end it cleanly rather than leave it hanging. */
  crash(error: unknown): void {
    console.error(JSON.stringify({ level: "error", requestId: this.job.requestId, error: String(error) }));
    const failure = wireError(WireErrorCode.internal, "the edge failed while relaying the answer", false);
    if (this.#reply.committed) return this.#failCommitted(failure);
    for (const attempt of this.#attempts.all()) this.#endAttempt(attempt, WireErrorCode.internal, true);
    this.#refuse(new ApiError({ status: 502, message: `The edge failed: ${failure.message}`, code: failure.code }));
  }

  // ---- walking the ladder ----

  /** Start the next attempt, or wait for one to become possible, or give up. */
  #advance(): void {
    if (this.#ended || this.#reply.committed || this.#attempts.size > 0 || this.#timers.has("retry")) return;
    // A held answer waits for a second opinion on its own rung, from a private node when one is free.
    const order = this.#held ? [this.#held.attempt.rungIndex] : this.#ladder.order();
    for (const r of order) {
      const nodeId = this.#held ? (this.#ladder.pickNode(r, this.#publicNodes(r)) ?? this.#ladder.pickNode(r)) : this.#ladder.pickNode(r);
      if (nodeId && this.#attempts.launch(r, nodeId)) return this.#queue.leave();
    }
    if (this.#ladder.anyFailed && order.some((r) => this.#ladder.freeIgnoringFailures(r))) {
      // Only nodes that already failed this request are free: let them in again after a backoff.
      return this.#timers.set("retry", this.host.retryDelayMs(this.#ladder.retries - 1), () => {
        this.#ladder.forgiveFailures();
        this.#advance();
      });
    }
    if (order.some((r) => this.#ladder.couldServeLater(r))) return this.#wait();
    this.#giveUp();
  }

  #wait(): void {
    if (this.#queue.waiting) return;
    if (!this.#queue.join()) this.#busy("Every node that can serve this request is busy and the queue is full.");
  }

  // ---- the answer (`attempt` leads: frames come only from running attempts, and a leader ends the others) ----

  #onChunk(attempt: Attempt, chunk: Chunk): void {
    this.#attempts.listenForSilence(attempt);
    if (!this.#attempts.leader) this.#lead(attempt);
    if (this.#reply.committed) return this.#reply.write({ type: "delta", text: chunk.text });
    if (!attempt.hold(chunk)) {
      return this.#attemptFailed(attempt, wireError("answer_too_large", `the answer grew past ${MAX_HELD_CHARACTERS} characters`, false));
    }
    const facts = this.#ladder.windowFacts(attempt.rungIndex);
    this.#carryOut(attempt, commitWindowVerdict(attempt.signals, Date.now() - attempt.firstTokenAt!, facts));
  }

  /** The first token decides the race between a slow attempt and its hedge. */
  #lead(attempt: Attempt): void {
    this.#attempts.firstToken(attempt);
    if (opensCommitWindow(this.#ladder.windowFacts(attempt.rungIndex))) {
      this.#timers.set("commit", this.#ladder.plan.escalation.commitMs, () => this.#judgeWindow(attempt));
    }
  }

  /** The commit window's time ran out before its tokens did. */
  #judgeWindow(attempt: Attempt): void {
    if (this.#ended || this.#reply.committed || this.#attempts.leader !== attempt) return;
    this.#carryOut(attempt, windowVerdict(attempt.signals, this.#ladder.escalationAt(attempt.rungIndex)));
  }

  /** Climbing ends the leader and committing starts the body: either way the commit timer stops. */
  #carryOut(attempt: Attempt, verdict: AnswerVerdict): void {
    // A second opinion is compared whole, never judged; an answer to be confirmed commits only once it is.
    if (this.#held || (verdict.kind === "commit" && this.#mustConfirm(attempt))) return;
    if (verdict.kind === "climb") return this.#climb(attempt, verdict.reason, verdict.judged);
    if (verdict.kind === "commit") this.#reply.commit(attempt, traceConfidence(verdict.judged));
  }

  #onDone(attempt: Attempt, done: Done): void {
    // An answer without a single chunk (empty, or only tool calls) still wins a hedge race.
    if (!this.#attempts.leader) this.#lead(attempt);
    this.#timers.clear("commit");
    this.host.reportHealth(attempt.nodeId, attempt.modelId, true);
    if (this.#reply.committed) return this.#end(attempt, done);
    const text = attempt.pieces.join("");
    if (this.#held) return this.#secondOpinion(attempt, { text, toolCalls: done.toolCalls }, done);
    const answer = { text, confidences: attempt.signals, toolCalls: done.toolCalls !== undefined };
    const verdict = answerVerdict(answer, this.#ladder.windowFacts(attempt.rungIndex));
    if (verdict.kind === "climb") {
      this.#reply.keep(attempt, text, done);
      return this.#climb(attempt, verdict.reason, verdict.judged);
    }
    if (this.#mustConfirm(attempt)) return this.#hold(attempt, { text, toolCalls: done.toolCalls });
    this.#reply.commit(attempt, traceConfidence(verdict.judged));
    this.#end(attempt, done);
  }

  // ---- verified answers (a key that demands them, on a public node) ----

  #mustConfirm(attempt: Attempt): boolean {
    return this.job.caller.verify === true && attempt.tier === "public";
  }

  /** Frees the public node and asks a second one for the same greedy answer. */
  #hold(attempt: Attempt, answer: ComparedAnswer): void {
    this.#held = { attempt, answer };
    this.#ladder.setAside(attempt.nodeId);
    this.#endAttempt(attempt, "held", false, { reason: "a public node's answer, held until a second node answers the same" });
    this.#advance();
  }

  /**
   * The second node answered. The same: it commits. Different, from a private
   * node: the private answer commits, and the public node's is evidence against
   * it. Different, from two public nodes: neither is trusted, and another node is asked.
   */
  #secondOpinion(attempt: Attempt, answer: ComparedAnswer, done: Done): void {
    const held = this.#held!;
    const agreed = answersAgree(held.answer, answer);
    if (attempt.tier === "private") {
      this.host.confirmed({
        nodeId: held.attempt.nodeId,
        node: this.host.nodeName(held.attempt.nodeId),
        model: held.attempt.modelId,
        kind: "confirm",
        requestId: this.job.requestId,
        answer: held.answer.text,
        expected: answer.text,
        referee: this.host.nodeName(attempt.nodeId),
        agreed,
        checkTokens: done.usage.completionTokens,
      });
    }
    if (agreed || attempt.tier === "private") {
      this.#reply.commit(attempt);
      return this.#end(attempt, done);
    }
    this.#endAttempt(attempt, "disagreed", false, { reason: `its answer differs from ${this.host.nodeName(held.attempt.nodeId)}'s` });
    if (this.#ladder.retries >= this.host.maxRetries) return this.#giveUp();
    this.#ladder.retryAfter(attempt);
    this.#advance();
  }

  /** The public nodes of a rung: a held answer's second opinion comes from any other only when no private node is free. */
  #publicNodes(rungIndex: number): string[] {
    return this.#ladder.plan.rungs[rungIndex]!.nodeIds.filter((id) => this.host.nodeTier(id) === "public");
  }

  #climb(attempt: Attempt, reason: string, judged: ConfidenceVerdict): void {
    // The node did its job; the model was not sure enough. That is no reason to open its breaker.
    this.host.reportHealth(attempt.nodeId, attempt.modelId, true);
    this.#ladder.climbedFrom(attempt);
    const confidence = traceConfidence(judged);
    this.#endAttempt(attempt, "escalated", true, { reason, ...(confidence && { confidence }) });
    this.#advance();
  }

  #committing(): void {
    // Past the deadline a committed answer only has to keep moving: the silence timer guards it.
    this.#timers.clear("deadline");
    this.#timers.clear("commit");
  }

  #end(attempt: Attempt, done: Done): void {
    this.#endAttempt(attempt, "answered", false);
    this.#reply.end(attempt, done);
    this.#finish();
  }

  // ---- failures ----

  #attemptFailed(attempt: Attempt, error: WireError, cancelNode = true): void {
    if (this.#ended || !this.#attempts.isRunning(attempt)) return;
    this.#ladder.failed(error);
    this.#endAttempt(attempt, error.code, cancelNode, { reason: error.message });
    const verdict = errorVerdict(error, {
      committed: this.#reply.committed,
      othersRunning: this.#attempts.size > 0,
      hasKept: this.#reply.hasKept,
      retries: this.#ladder.retries,
      maxRetries: this.host.maxRetries,
    });
    if (verdict.blamesNode) this.host.reportHealth(attempt.nodeId, attempt.modelId, false);
    if (verdict.kind === "fail-committed") return this.#failCommitted(error);
    if (verdict.kind === "refuse")
      return this.#refuse(new ApiError({ status: verdict.status, message: verdict.message, code: error.code }));
    if (verdict.kind === "answer-kept" && this.#reply.answerWithKept()) return this.#finish();
    if (verdict.kind === "await-hedge") return;
    this.#ladder.retryAfter(attempt);
    if (verdict.kind === "retries-exhausted") return this.#giveUp();
    this.#advance();
  }

  #failCommitted(error: WireError): void {
    for (const attempt of this.#attempts.all()) this.#endAttempt(attempt, error.code, true);
    this.#reply.fail(error);
    this.#finish();
  }

  #onDeadline(): void {
    if (this.#ended || this.#reply.committed) return;
    if (this.#queue.waiting) return this.#busy("Every node that can serve this request stayed busy until its deadline.");
    this.#ladder.failed(wireError(WireErrorCode.timeout, `no answer within ${this.host.timing.requestTimeoutMs / 1000}s`, false));
    for (const attempt of this.#attempts.all()) this.#endAttempt(attempt, WireErrorCode.timeout, true);
    this.#giveUp();
  }

  /** No free slot came in time: a kept weak answer if there is one, else 429; 503 when the nodes left rather than stayed busy. */
  #busy(message: string): void {
    if (this.#held) return this.#refuse(unverifiedError());
    if (this.#reply.answerWithKept()) return this.#finish();
    if (this.#ladder.awaitingReturn()) {
      const waited = this.host.timing.queueWaitMs / 1000;
      return this.#refuse(
        unavailableError(
          `Every node serving '${this.#ladder.modelOf(this.#ladder.order()[0]!)}' left, and none came back within ${waited}s.`,
        ),
      );
    }
    this.#refuse(busyError(message));
  }

  /** No rung can answer any more: a kept weak answer if there is one, else the most useful error. */
  #giveUp(): void {
    if (this.#held) return this.#refuse(unverifiedError());
    if (this.#reply.answerWithKept()) return this.#finish();
    this.#refuse(exhaustedError(this.#trace.attempts, this.#ladder.errors));
  }

  #endAttempt(attempt: Attempt, outcome: string, cancelNode: boolean, extra: TraceExtra = {}): void {
    // The commit window is the leader's.
    if (this.#attempts.leader === attempt) this.#timers.clear("commit");
    this.#attempts.end(attempt, outcome, cancelNode, extra);
  }

  #refuse(error: ApiError): void {
    if (this.#ended) return;
    this.#reply.refuse(error);
    this.#finish();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#timers.clearAll();
    this.#attempts.stop();
    this.#queue.leave();
    this.#reply.close();
    this.host.finished(this.#reply.summary(this.#startedAt));
  }
}
