import type { Attempt as AttemptTrace, RungTrace } from "@rung/shared/openai";
import { type Chunk, type Done, type Job, type JobError, type WireError, WireErrorCode, wireError } from "@rung/shared/protocol";
import { checkJsonAnswer, commitPoint, judgeConfidence } from "@rung/shared/routing";
import { ApiError } from "../middleware/api-error.ts";
import { AnswerStream } from "./answer-stream.ts";
import { Attempt, MAX_EARLY_CHUNKS, MAX_HELD_CHARACTERS } from "./attempt.ts";
import { exhaustedError } from "./exhausted-error.ts";
import { type FabricJob, type JobEvent, RungHeader } from "./fabric-job.ts";
import type { JobRunHost, Ladder } from "./job-run-host.ts";

export { MAX_EARLY_CHUNKS };

/** A complete answer that looked weak, kept in case every larger rung fails. */
interface KeptAnswer {
  attempt: Attempt;
  text: string;
  done: Done;
  /** Where its `escalated` entry sits in the trace. */
  traceIndex: number;
}

/**
 * Node errors about the request itself: the client's JSON schema or tools that
 * no grammar can be built from. Every node would say the same, so they are 400s.
 */
const THE_REQUESTS_FAULT = new Set<string>(["invalid_schema"]);

/** Error codes that say nothing about a node's health. */
const NOT_THE_NODES_FAULT = new Set<string>([
  WireErrorCode.busy,
  WireErrorCode.draining,
  WireErrorCode.contextLengthExceeded,
  WireErrorCode.cancelled,
]);

/**
 * One client request walking its ladder: dispatch to a node of the current
 * rung, hold the first tokens and climb to a larger model when they look weak,
 * hedge on a second node when the first token is late, retry elsewhere on
 * retryable errors, wait in the queue when every capable node is busy, and
 * commit one answer. The response promise always settles: with an error before
 * any byte, or with a committed body that ends with an `end` or `fail` event.
 */
export class JobRun {
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  readonly #running = new Map<string, Attempt>();
  #leader: Attempt | undefined;
  #dispatched = 0;
  #climbs = 0;
  #retries = 0;
  /** The lowest rung still allowed: a climb leaves the rungs below behind. */
  #floor: number;
  /** `node model` pairs that failed this request; skipped until a retry's backoff lets them in again. */
  readonly #failed = new Set<string>();
  readonly #trace: AttemptTrace[] = [];
  readonly #errors: WireError[] = [];
  #kept: KeptAnswer | undefined;
  /** What the commit window measured on the answer that committed. */
  #answeredConfidence: AttemptTrace["confidence"];
  /** Set once the answer committed: the body the client reads. */
  #answer: AnswerStream | undefined;
  readonly #timers = { deadline: null, commit: null, hedge: null, retry: null, queue: null } as Record<
    "deadline" | "commit" | "hedge" | "retry" | "queue",
    ReturnType<typeof setTimeout> | null
  >;
  #queued = false;
  #ended = false;

  constructor(
    readonly job: FabricJob,
    private ladder: Ladder,
    private readonly host: JobRunHost,
  ) {
    this.#floor = ladder.startIndex;
    this.response = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  start(): void {
    this.#timers.deadline = setTimeout(() => this.#onDeadline(), this.host.timing.requestTimeoutMs);
    this.#advance();
  }

  /** A frame from a node that runs one of this request's attempts. */
  onFrame(frame: Chunk | Done | JobError): void {
    const attempt = this.#running.get(frame.jobId);
    if (this.#ended || !attempt) return;
    if (frame.type === "job-error") return this.#attemptFailed(attempt, frame.error);

    for (const event of attempt.sequencer.push(frame)) {
      if (event.type === "chunk") this.#onChunk(attempt, event.chunk);
      else this.#onDone(attempt, event.done);
      if (this.#ended || !this.#running.has(attempt.id)) return;
    }
    if (attempt.sequencer.isInconsistent) {
      return this.#attemptFailed(attempt, wireError(WireErrorCode.sequenceGap, "node sent more chunks than it counted", true));
    }
    if (attempt.sequencer.waiting > MAX_EARLY_CHUNKS) {
      return this.#attemptFailed(
        attempt,
        wireError(WireErrorCode.sequenceGap, `node sent over ${MAX_EARLY_CHUNKS} chunks past a gap`, true),
      );
    }
    if (frame.type === "done" && attempt.sequencer.hasGap && !attempt.gap) {
      attempt.gap = setTimeout(
        () => this.#attemptFailed(attempt, wireError(WireErrorCode.sequenceGap, "chunks went missing before done", true)),
        this.host.timing.gapTimeoutMs,
      );
    }
  }

  /** The node's socket closed (or its tunnel broke) while it held an attempt of this request. */
  onNodeGone(nodeId: string): void {
    for (const attempt of [...this.#running.values()]) {
      if (attempt.nodeId === nodeId) {
        this.#attemptFailed(attempt, wireError(WireErrorCode.nodeDisconnected, "the node disconnected", true), false);
      }
    }
  }

  /** Nodes joined or left while this request waited: the same rungs, served by these nodes now. */
  updateNodes(nodeIdsByModel: ReadonlyMap<string, readonly string[]>): void {
    const rungs = this.ladder.rungs.map((rung) => ({ ...rung, nodeIds: nodeIdsByModel.get(rung.modelId) ?? rung.nodeIds }));
    this.ladder = { ...this.ladder, rungs };
  }

  /** A slot freed somewhere in the pool: a queued request tries again. */
  slotFreed(): void {
    if (this.#queued) this.#advance();
  }

  /** The client went away: stop the nodes and forget the job. */
  abandon(): void {
    if (this.#ended) return;
    for (const attempt of [...this.#running.values()]) this.#endAttempt(attempt, "client_closed", true);
    // Nobody reads it, but the promise settles as promised (499: the client closed the request).
    if (!this.#answer) this.#resolve(new Response(null, { status: 499 }));
    this.#finish();
  }

  /** Something unexpected broke while handling this job: end it cleanly rather than leave it hanging. */
  crash(error: unknown): void {
    console.error(JSON.stringify({ level: "error", requestId: this.job.requestId, error: String(error) }));
    const failure = wireError(WireErrorCode.internal, "the edge failed while relaying the answer", false);
    if (this.#answer) return this.#failCommitted(failure);
    for (const attempt of [...this.#running.values()]) this.#endAttempt(attempt, WireErrorCode.internal, true);
    this.#refuse(new ApiError({ status: 502, message: `The edge failed: ${failure.message}`, code: failure.code }));
  }

  // ---- walking the ladder ----

  /**
   * Rungs in the order this request may use them: from the floor up (a busy
   * rung spills over to a larger one rather than wait), then, once something
   * failed and before any climb, the rungs below the start as fallbacks.
   */
  #rungOrder(): number[] {
    const order: number[] = [];
    for (let r = this.#floor; r < this.ladder.rungs.length; r++) order.push(r);
    if (this.#climbs === 0 && this.#errors.length > 0) for (let r = this.ladder.startIndex - 1; r >= 0; r--) order.push(r);
    return order;
  }

  #failedNodesOf(modelId: string, also: readonly string[] = []): Set<string> {
    const nodes = new Set(also);
    for (const key of this.#failed) {
      const [nodeId, failedModel] = key.split(" ");
      if (failedModel === modelId) nodes.add(nodeId!);
    }
    return nodes;
  }

  /** Start the next attempt, or wait for one to become possible, or give up. */
  #advance(): void {
    if (this.#ended || this.#answer || this.#running.size > 0 || this.#timers.retry) return;
    for (const r of this.#rungOrder()) {
      const { modelId, nodeIds } = this.ladder.rungs[r]!;
      const nodeId = this.host.pickNode(modelId, nodeIds, this.#failedNodesOf(modelId));
      if (nodeId && this.#launch(r, nodeId, false)) return;
    }
    if (this.#failed.size > 0 && this.#rungOrder().some((r) => this.#pickIgnoringFailures(r))) {
      // Only nodes that already failed this request are free: let them in again after a backoff.
      this.#timers.retry = setTimeout(
        () => {
          this.#timers.retry = null;
          this.#failed.clear();
          this.#advance();
        },
        this.host.retryDelayMs(this.#retries - 1),
      );
      return;
    }
    const rungs = this.#rungOrder().map((r) => this.ladder.rungs[r]!);
    if (rungs.some(({ modelId, nodeIds }) => this.host.couldServeLater(modelId, nodeIds))) return this.#wait();
    this.#giveUp();
  }

  #pickIgnoringFailures(r: number): boolean {
    const { modelId, nodeIds } = this.ladder.rungs[r]!;
    return this.host.pickNode(modelId, nodeIds, new Set()) !== undefined;
  }

  #launch(rungIndex: number, nodeId: string, hedge: boolean): boolean {
    const modelId = this.ladder.rungs[rungIndex]!.modelId;
    const id = `${this.job.requestId}.${++this.#dispatched}`;
    const job: Job = {
      type: "job",
      jobId: id,
      model: modelId,
      input: this.job.input,
      sampling: this.job.sampling,
      ...(this.job.responseFormat && { responseFormat: this.job.responseFormat }),
      ...(this.job.tools && { tools: this.job.tools, toolChoice: this.job.toolChoice }),
    };
    if (!this.host.dispatch(nodeId, job)) return false;
    if (this.#queued) this.#leaveQueue();
    const attempt = new Attempt(id, rungIndex, modelId, nodeId, hedge);
    this.#running.set(id, attempt);
    this.#listenForSilence(attempt);
    if (!hedge) this.#planHedge(attempt);
    return true;
  }

  #wait(): void {
    if (this.#queued) return;
    if (!this.host.enqueue(this)) return this.#busy("Every node that can serve this request is busy and the queue is full.");
    this.#queued = true;
    this.#timers.queue = setTimeout(() => {
      this.#busy(`Every node that can serve this request stayed busy for ${this.host.timing.queueWaitMs / 1000}s.`);
    }, this.host.timing.queueWaitMs);
  }

  #leaveQueue(): void {
    this.#queued = false;
    clearTimeout(this.#timers.queue);
    this.host.dequeue(this);
  }

  // ---- hedging ----

  #planHedge(primary: Attempt): void {
    clearTimeout(this.#timers.hedge);
    const delay = this.host.hedgeDelayMs(primary.modelId);
    if (delay === null) return;
    this.#timers.hedge = setTimeout(() => this.#hedge(primary), delay);
  }

  /** The first token is late: run the same job on a second node of the model; the first to answer wins. */
  #hedge(primary: Attempt): void {
    if (this.#ended || this.#leader || this.#running.size !== 1 || !this.#running.has(primary.id)) return;
    const { modelId, nodeIds } = this.ladder.rungs[primary.rungIndex]!;
    const nodeId = this.host.pickNode(modelId, nodeIds, this.#failedNodesOf(modelId, [primary.nodeId]));
    if (nodeId) this.#launch(primary.rungIndex, nodeId, true);
  }

  // ---- the answer ----

  #onChunk(attempt: Attempt, chunk: Chunk): void {
    this.#listenForSilence(attempt);
    if (!this.#leader) this.#lead(attempt);
    if (this.#answer) return this.#write({ type: "delta", text: chunk.text });
    if (!attempt.hold(chunk)) {
      return this.#attemptFailed(attempt, wireError("answer_too_large", `the answer grew past ${MAX_HELD_CHARACTERS} characters`, false));
    }
    if (!this.job.stream || this.#needsWholeAnswer()) return;
    if (!this.#mayClimb(attempt)) return this.#commit(attempt);
    if (commitPoint(attempt.confidences.length, Date.now() - attempt.firstTokenAt!, this.ladder.escalation)) this.#judgeWindow(attempt);
  }

  /** The first token decides the race between a slow attempt and its hedge. */
  #lead(attempt: Attempt): void {
    this.#leader = attempt;
    attempt.firstTokenAt = Date.now();
    this.host.recordFirstToken(attempt.nodeId, attempt.modelId, attempt.firstTokenAt - attempt.startedAt);
    clearTimeout(this.#timers.hedge);
    for (const other of [...this.#running.values()]) {
      if (other === attempt) continue;
      // Its first token was at least this late: leaving the sample out would pull the p95, and the hedge delay, ever lower.
      if (!other.hedge) this.host.recordFirstToken(other.nodeId, other.modelId, Date.now() - other.startedAt);
      this.#endAttempt(other, "hedge_lost", true, { reason: `${this.host.nodeName(attempt.nodeId)} answered first` });
    }
    if (this.job.stream && !this.#needsWholeAnswer() && this.#mayClimb(attempt)) {
      this.#timers.commit = setTimeout(() => this.#judgeWindow(attempt), this.ladder.escalation.commitMs);
    }
  }

  /** A JSON answer can only be judged whole, so a stream that may climb on it is held to the end. */
  #needsWholeAnswer(): boolean {
    return this.job.responseFormat !== undefined && this.ladder.escalation.climbOnInvalidJson && this.#mayClimb(this.#leader);
  }

  #mayClimb(attempt: Attempt | undefined): boolean {
    const { enabled, maxClimbs } = this.ladder.escalation;
    if (!attempt || !enabled || this.#climbs >= maxClimbs) return false;
    // Fallback rungs below the start were reached through errors above: climbing back would repeat them.
    return attempt.rungIndex >= this.ladder.startIndex && attempt.rungIndex < this.ladder.rungs.length - 1;
  }

  /** The commit window closed on a stream: weak tokens climb, strong ones go to the client. */
  #judgeWindow(attempt: Attempt): void {
    if (this.#ended || this.#answer || this.#leader !== attempt) return;
    clearTimeout(this.#timers.commit);
    const verdict = judgeConfidence(attempt.confidences, this.ladder.escalation);
    if (verdict.weak) return this.#climb(attempt, verdict.reason ?? "low confidence", confidenceOf(verdict));
    this.#commit(attempt, confidenceOf(verdict));
  }

  #onDone(attempt: Attempt, done: Done): void {
    // An answer without a single chunk (empty, or only tool calls) still wins a hedge race.
    if (!this.#leader) this.#lead(attempt);
    clearTimeout(this.#timers.commit);
    this.host.reportHealth(attempt.nodeId, attempt.modelId, true);
    if (this.#answer) return this.#end(attempt, done, this.#answeredTrace(attempt));
    const text = attempt.pieces.join("");
    const e = this.ladder.escalation;
    // A whole answer is judged on all of it; a stream on the window it would have been held for.
    const verdict = judgeConfidence(attempt.confidences, this.job.stream ? e : { ...e, windowTokens: Number.MAX_SAFE_INTEGER });
    const json =
      this.job.responseFormat && e.climbOnInvalidJson && done.toolCalls === undefined
        ? checkJsonAnswer(text, this.job.responseFormat)
        : { ok: true as const };
    const reason = !json.ok ? json.reason : verdict.weak ? (verdict.reason ?? "low confidence") : undefined;
    if (reason !== undefined && this.#mayClimb(attempt)) {
      this.#kept = { attempt, text, done, traceIndex: this.#trace.length };
      return this.#climb(attempt, reason, confidenceOf(verdict));
    }
    this.#commit(attempt, confidenceOf(verdict));
    this.#end(attempt, done, this.#answeredTrace(attempt));
  }

  #climb(attempt: Attempt, reason: string, confidence: AttemptTrace["confidence"]): void {
    // The node did its job; the model was not sure enough. That is no reason to open its breaker.
    this.host.reportHealth(attempt.nodeId, attempt.modelId, true);
    this.#climbs++;
    this.#floor = attempt.rungIndex + 1;
    this.#failed.clear();
    this.#endAttempt(attempt, "escalated", true, { reason, ...(confidence && { confidence }) });
    this.#advance();
  }

  /** The answer is this attempt's from here on: send headers and what was held. */
  #commit(attempt: Attempt, confidence?: AttemptTrace["confidence"]): void {
    this.#answeredConfidence = confidence;
    this.#respondWith(attempt, this.#trace.length + 1);
    const held = attempt.takeHeld();
    if (held) this.#write({ type: "delta", text: held });
  }

  #respondWith(attempt: Attempt, attempts: number): void {
    this.#answer = new AnswerStream(() => this.abandon());
    // Past the deadline a committed answer only has to keep moving: the silence timer guards it.
    clearTimeout(this.#timers.deadline);
    clearTimeout(this.#timers.commit);
    this.#resolve(
      this.#answer.response({
        [RungHeader.model]: attempt.modelId,
        [RungHeader.node]: this.host.nodeName(attempt.nodeId),
        [RungHeader.attempts]: String(attempts),
        [RungHeader.escalations]: String(this.#climbs),
      }),
    );
  }

  #answeredTrace(attempt: Attempt): AttemptTrace {
    const confidence = this.#answeredConfidence;
    return attempt.traceOf(this.host.nodeName(attempt.nodeId), "answered", confidence ? { confidence } : {});
  }

  #end(attempt: Attempt, done: Done, answered: AttemptTrace): void {
    this.#endAttempt(attempt, "answered", false);
    this.#write({
      type: "end",
      finishReason: done.finishReason,
      usage: done.usage,
      trace: this.#rungTrace(answered),
      ...(done.toolCalls && { toolCalls: done.toolCalls }),
    });
    this.#finish();
  }

  /** Every larger rung failed after a weak answer: the weak answer beats an error. */
  #answerWithKept({ attempt, text, done, traceIndex }: KeptAnswer): void {
    this.#kept = undefined;
    const [escalated] = this.#trace.splice(traceIndex, 1);
    const answered = { ...escalated!, outcome: "answered", reason: `kept after every larger rung failed (${escalated!.reason})` };
    this.#respondWith(attempt, this.#trace.length + 1);
    if (text) this.#write({ type: "delta", text });
    this.#end(attempt, done, answered);
  }

  // ---- failures ----

  #attemptFailed(attempt: Attempt, error: WireError, cancelNode = true): void {
    if (this.#ended || !this.#running.has(attempt.id)) return;
    this.#errors.push(error);
    this.#endAttempt(attempt, error.code, cancelNode, { reason: error.message });
    if (error.retryable && !NOT_THE_NODES_FAULT.has(error.code)) this.host.reportHealth(attempt.nodeId, attempt.modelId, false);
    if (this.#answer) return this.#failCommitted(error);
    if (this.#running.size > 0) return; // its hedge still runs
    if (!error.retryable) {
      if (THE_REQUESTS_FAULT.has(error.code)) return this.#refuse(new ApiError({ status: 400, message: error.message, code: error.code }));
      if (this.#kept) return this.#answerWithKept(this.#kept);
      return this.#refuse(new ApiError({ status: 502, message: `The node failed: ${error.message}`, code: error.code }));
    }
    this.#failed.add(`${attempt.nodeId} ${attempt.modelId}`);
    if (++this.#retries > this.host.maxRetries) return this.#giveUp();
    this.#advance();
  }

  #failCommitted(error: WireError): void {
    for (const attempt of [...this.#running.values()]) this.#endAttempt(attempt, error.code, true);
    this.#write({ type: "fail", code: error.code, message: error.message });
    this.#finish();
  }

  #listenForSilence(attempt: Attempt): void {
    clearTimeout(attempt.silence);
    attempt.silence = setTimeout(() => {
      const seconds = this.host.timing.tokenTimeoutMs / 1000;
      this.#attemptFailed(attempt, wireError(WireErrorCode.timeout, `the node sent no token for ${seconds}s`, true));
    }, this.host.timing.tokenTimeoutMs);
  }

  #onDeadline(): void {
    if (this.#ended || this.#answer) return;
    if (this.#queued) return this.#busy("Every node that can serve this request stayed busy until its deadline.");
    this.#errors.push(wireError(WireErrorCode.timeout, `no answer within ${this.host.timing.requestTimeoutMs / 1000}s`, false));
    for (const attempt of [...this.#running.values()]) this.#endAttempt(attempt, WireErrorCode.timeout, true);
    this.#giveUp();
  }

  /** No free slot came in time: a kept weak answer if there is one, else 429. */
  #busy(message: string): void {
    if (this.#kept) return this.#answerWithKept(this.#kept);
    this.#refuse(new ApiError({ status: 429, message: `${message} Retry shortly.`, code: "nodes_busy", headers: { "retry-after": "1" } }));
  }

  /** No rung can answer any more: a kept weak answer if there is one, else the most useful error. */
  #giveUp(): void {
    if (this.#kept) return this.#answerWithKept(this.#kept);
    this.#refuse(exhaustedError(this.#trace, this.#errors));
  }

  #endAttempt(attempt: Attempt, outcome: string, cancelNode: boolean, extra: Pick<AttemptTrace, "reason" | "confidence"> = {}): void {
    if (!this.#running.delete(attempt.id)) return;
    attempt.stopTimers();
    if (this.#leader === attempt) {
      this.#leader = undefined;
      clearTimeout(this.#timers.commit);
    }
    if (cancelNode) this.host.cancel(attempt.nodeId, attempt.id);
    this.host.release(attempt.nodeId, attempt.id);
    if (outcome !== "answered") this.#trace.push(attempt.traceOf(this.host.nodeName(attempt.nodeId), outcome, extra));
  }

  #rungTrace(answered: AttemptTrace): RungTrace {
    return {
      model: answered.model,
      node: answered.node,
      escalations: this.#climbs,
      ...(this.ladder.profile && { profile: this.ladder.profile }),
      ...(this.ladder.preRouted.length > 0 && { preRouted: [...this.ladder.preRouted] }),
      attempts: [...this.#trace, answered],
    };
  }

  #refuse(error: ApiError): void {
    if (this.#ended) return;
    this.#resolve(error.toResponse());
    this.#finish();
  }

  #write(event: JobEvent): void {
    this.#answer?.write(event);
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const timer of Object.values(this.#timers)) clearTimeout(timer);
    if (this.#queued) this.#leaveQueue();
    this.#answer?.close();
  }
}

function confidenceOf(verdict: { mean: number | null; min: number | null }): AttemptTrace["confidence"] {
  if (verdict.mean === null || verdict.min === null) return undefined;
  return { mean: round(verdict.mean), min: round(verdict.min) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
