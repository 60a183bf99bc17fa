import { type Chunk, type Done, type WireError, WireErrorCode, wireError } from "@rung/shared/protocol";
import { MEAN_JUDGE, needsTokenSignals } from "@rung/shared/routing";
import { Attempt, attemptJob } from "./attempt.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { JobRunHost } from "./job-run-host.ts";
import type { RunLadder } from "./run-ladder.ts";
import { attemptTrace, type RunTrace, type TraceExtra } from "./run-trace.ts";
import type { QueuedTimer } from "./timer-queue.ts";

/**
 * The attempts of one request that run now, as the nodes see them: dispatch
 * through the host, a hedge on a second node when the first token is late,
 * the race for the first token, each attempt's silence and gap timers, and
 * ending one (stop the node, free its slot, note it in the trace).
 */
export class RunAttempts {
  readonly #running = new Map<string, Attempt>();
  #dispatched = 0;
  /** The attempt whose first token came first; always a running one. */
  #leader: Attempt | undefined;
  #hedgeTimer: QueuedTimer | undefined;

  constructor(
    private readonly job: FabricJob,
    private readonly host: JobRunHost,
    private readonly ladder: RunLadder,
    private readonly trace: RunTrace,
    /** The attempt cannot go on: its node fell silent, or broke its chunk sequence. */
    private readonly onBroken: (attempt: Attempt, error: WireError) => void,
  ) {}

  get size(): number {
    return this.#running.size;
  }

  get leader(): Attempt | undefined {
    return this.#leader;
  }

  get(jobId: string): Attempt | undefined {
    return this.#running.get(jobId);
  }

  isRunning(attempt: Attempt): boolean {
    return this.#running.has(attempt.id);
  }

  /** A copy: ending attempts while walking it is safe. */
  all(): Attempt[] {
    return [...this.#running.values()];
  }

  /** Sends the job to a node of the rung, and plans a hedge for it; false when the node cannot take it now. */
  launch(rungIndex: number, nodeId: string): boolean {
    const attempt = this.#launch(rungIndex, nodeId, false);
    if (attempt) this.#planHedge(attempt);
    return attempt !== undefined;
  }

  #launch(rungIndex: number, nodeId: string, hedge: boolean): Attempt | undefined {
    const modelId = this.ladder.modelOf(rungIndex);
    const id = `${this.job.requestId}.${++this.#dispatched}`;
    const traceTokens = this.job.override?.traceTokens === true;
    const tokenSignals = traceTokens || needsTokenSignals(this.ladder.plan.escalation.judge ?? MEAN_JUDGE);
    if (!this.host.dispatch(nodeId, attemptJob(this.job, id, modelId, tokenSignals))) return undefined;
    const attempt = new Attempt(id, rungIndex, modelId, nodeId, hedge, this.host.nodeTier(nodeId), traceTokens);
    this.#running.set(id, attempt);
    this.listenForSilence(attempt);
    return attempt;
  }

  #planHedge(primary: Attempt): void {
    this.#hedgeTimer?.cancel();
    const delay = this.host.hedgeDelayMs(primary.modelId);
    if (delay !== null) this.#hedgeTimer = this.host.timers.set(delay, () => this.#hedge(primary));
  }

  /** The first token is late: run the same job on a second node of the model; the first to answer wins. */
  #hedge(primary: Attempt): void {
    if (this.#leader || this.#running.size !== 1 || !this.isRunning(primary)) return;
    const nodeId = this.ladder.pickNode(primary.rungIndex, [primary.nodeId]);
    if (nodeId) this.#launch(primary.rungIndex, nodeId, true);
  }

  /**
   * The first token decides the race between a slow attempt and its hedge:
   * the winner leads, its first-token time is recorded, the others end as `hedge_lost`.
   */
  firstToken(winner: Attempt): void {
    this.#leader = winner;
    winner.firstTokenAt = Date.now();
    this.host.recordFirstToken(winner.nodeId, winner.modelId, winner.firstTokenAt - winner.startedAt);
    this.#hedgeTimer?.cancel();
    for (const other of this.all()) {
      if (other === winner) continue;
      // Its first token was at least this late: leaving the sample out would pull the p95, and the hedge delay, ever lower.
      if (!other.hedge) this.host.recordFirstToken(other.nodeId, other.modelId, Date.now() - other.startedAt);
      this.end(other, "hedge_lost", true, { reason: `${this.host.nodeName(winner.nodeId)} answered first` });
    }
  }

  /**
   * The node was heard from: the silence timer counts from now. One timer per
   * attempt, re-armed for what is left when it fires, instead of one cleared
   * and set again per chunk: a stream's tokens cost no timer calls.
   */
  listenForSilence(attempt: Attempt): void {
    attempt.heardAt = Date.now();
    if (attempt.silence === null) this.#armSilence(attempt, this.host.timing.tokenTimeoutMs);
  }

  #armSilence(attempt: Attempt, ms: number): void {
    attempt.silence = this.host.timers.set(ms, () => {
      const timeoutMs = this.host.timing.tokenTimeoutMs;
      const quietMs = Date.now() - attempt.heardAt;
      if (quietMs < timeoutMs) return this.#armSilence(attempt, timeoutMs - quietMs);
      attempt.silence = null;
      this.onBroken(attempt, wireError(WireErrorCode.timeout, `the node sent no token for ${timeoutMs / 1000}s`, true));
    });
  }

  /** After a frame's chunks were handled: a sequence broken beyond repair fails, missing chunks get a while once `done` came. */
  checkSequence(attempt: Attempt, frame: Chunk | Done): void {
    const broken = attempt.sequenceError();
    if (broken) return this.onBroken(attempt, broken);
    if (frame.type === "done" && attempt.sequencer.hasGap && !attempt.gap) {
      attempt.gap = this.host.timers.set(this.host.timing.gapTimeoutMs, () =>
        this.onBroken(attempt, wireError(WireErrorCode.sequenceGap, "chunks went missing before done", true)),
      );
    }
  }

  /** Ends a running attempt; false when it already ended. An answered attempt is the trace's last entry, added by the run. */
  end(attempt: Attempt, outcome: string, cancelNode: boolean, extra: TraceExtra = {}): boolean {
    if (!this.#running.delete(attempt.id)) return false;
    attempt.stopTimers();
    if (this.#leader === attempt) this.#leader = undefined;
    if (cancelNode) this.host.cancel(attempt.nodeId, attempt.id);
    this.host.release(attempt.nodeId, attempt.id);
    if (outcome !== "answered") this.trace.add(attemptTrace(attempt, this.host.nodeName(attempt.nodeId), outcome, extra));
    return true;
  }

  /** The request ended: no hedge starts any more. */
  stop(): void {
    this.#hedgeTimer?.cancel();
  }
}
