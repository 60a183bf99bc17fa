import type { Attempt } from "@rung/shared/openai";
import {
  ChunkSequencer,
  WireErrorCode,
  wireError,
  type Chunk,
  type Done,
  type Job,
  type JobError,
  type WireError,
} from "@rung/shared/protocol";
import type { Candidate } from "@rung/shared/routing";
import { ApiError } from "../middleware/api-error.ts";
import { RungHeader, type FabricJob, type JobEvent } from "./fabric-job.ts";

/** What a job needs from the fabric around it; the Durable Object provides it. */
export interface JobRunHost {
  /** Sends the job to the node and takes one of its slots; false when the node cannot take it now. */
  dispatch(nodeId: string, job: Job): boolean;
  /** Tells the node to stop (best effort). */
  cancel(nodeId: string, attemptId: string): void;
  /** The attempt is over: free its slot and stop routing its frames here. */
  release(nodeId: string, attemptId: string): void;
  nodeName(nodeId: string): string;
  /** The longest wait for a node's next token, the first included. */
  tokenTimeoutMs: number;
  /** The longest wait for an answer to commit (a stream's first token, a whole answer's end). */
  requestTimeoutMs: number;
  /** How long to wait for missing chunks once `done` arrived before giving up on the node. */
  gapTimeoutMs: number;
}

/**
 * Bounds on what one node can make the edge hold for one job: a node that
 * skips a sequence number or streams without end must not exhaust the object's
 * memory, which every request in the pool shares.
 */
export const MAX_EARLY_CHUNKS = 256;
export const MAX_HELD_CHARACTERS = 4 * 1024 * 1024;

interface Attempting {
  id: string;
  candidate: Candidate;
  startedAt: number;
  sequencer: ChunkSequencer;
  /** Fires when the node has been silent for `tokenTimeoutMs`; reset by every chunk. */
  silence: ReturnType<typeof setTimeout> | null;
  gap: ReturnType<typeof setTimeout> | null;
}

/**
 * One client request walking its candidates: dispatch to a node, fall back to
 * the next on a retryable error, a disconnect or a silent node, and commit the
 * answer once. The response promise always settles: with an error before any
 * byte, or with a committed body that always ends with an `end` or `fail` event.
 */
export class JobRun {
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  #index = -1;
  #attempt: Attempting | undefined;
  #attempts = 0;
  readonly #trace: Attempt[] = [];
  readonly #errors: WireError[] = [];
  #held: string[] = [];
  #heldCharacters = 0;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #deadline: ReturnType<typeof setTimeout> | null = null;
  #ended = false;

  constructor(
    private readonly job: FabricJob,
    private readonly candidates: readonly Candidate[],
    private readonly host: JobRunHost,
  ) {
    this.response = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get nodeId(): string | undefined {
    return this.#attempt?.candidate.nodeId;
  }

  start(): void {
    this.#deadline = setTimeout(() => this.#onDeadline(), this.host.requestTimeoutMs);
    this.#next();
  }

  /** A frame from the node that runs the current attempt. */
  onFrame(frame: Chunk | Done | JobError): void {
    const attempt = this.#attempt;
    if (this.#ended || !attempt || frame.jobId !== attempt.id) return;
    if (frame.type === "job-error") return this.#fail(frame.error);

    for (const event of attempt.sequencer.push(frame)) {
      if (event.type === "chunk") this.#onChunk(attempt, event.chunk);
      else this.#onDone(attempt, event.done);
      if (this.#ended || this.#attempt !== attempt) return;
    }
    if (attempt.sequencer.isInconsistent) {
      return this.#fail(wireError(WireErrorCode.sequenceGap, "node sent more chunks than it counted", true));
    }
    if (attempt.sequencer.waiting > MAX_EARLY_CHUNKS) {
      return this.#fail(wireError(WireErrorCode.sequenceGap, `node sent over ${MAX_EARLY_CHUNKS} chunks past a gap`, true));
    }
    if (frame.type === "done" && attempt.sequencer.hasGap && !attempt.gap) {
      attempt.gap = setTimeout(
        () => this.#fail(wireError(WireErrorCode.sequenceGap, "chunks went missing before done", true)),
        this.host.gapTimeoutMs,
      );
    }
  }

  /** The node's socket closed while it held this job. */
  onNodeGone(nodeId: string): void {
    if (this.#attempt?.candidate.nodeId !== nodeId) return;
    this.#fail(wireError(WireErrorCode.nodeDisconnected, "the node disconnected", true), false);
  }

  /** The client went away: stop the node and forget the job. */
  abandon(): void {
    if (this.#ended) return;
    this.#endAttempt("client_closed", true);
    this.#finish();
  }

  /** Something unexpected broke while handling this job: end it cleanly rather than leave it hanging. */
  crash(error: unknown): void {
    console.error(JSON.stringify({ level: "error", requestId: this.job.requestId, error: String(error) }));
    this.#fail(wireError(WireErrorCode.internal, "the edge failed while relaying the answer", false));
  }

  #next(): void {
    while (!this.#ended && ++this.#index < this.candidates.length) {
      const candidate = this.candidates[this.#index]!;
      const id = `${this.job.requestId}.${++this.#attempts}`;
      const job: Job = {
        type: "job",
        jobId: id,
        model: candidate.model.id,
        input: this.job.input,
        sampling: this.job.sampling,
        ...(this.job.responseFormat && { responseFormat: this.job.responseFormat }),
        ...(this.job.tools && { tools: this.job.tools, toolChoice: this.job.toolChoice }),
      };
      if (!this.host.dispatch(candidate.nodeId, job)) continue;
      this.#attempt = { id, candidate, startedAt: Date.now(), sequencer: new ChunkSequencer(), silence: null, gap: null };
      this.#listenForSilence(this.#attempt);
      return;
    }
    if (!this.#ended) this.#refuse(this.#exhaustedError());
  }

  #onChunk(attempt: Attempting, chunk: Chunk): void {
    this.#listenForSilence(attempt);
    if (this.#writer) return this.#write({ type: "delta", text: chunk.text });
    this.#held.push(chunk.text);
    this.#heldCharacters += chunk.text.length;
    if (this.#heldCharacters > MAX_HELD_CHARACTERS) {
      return this.#fail(wireError("answer_too_large", `the answer grew past ${MAX_HELD_CHARACTERS} characters`, false));
    }
    if (this.job.stream) this.#commit(attempt);
  }

  #onDone(attempt: Attempting, done: Done): void {
    if (!this.#writer) this.#commit(attempt);
    this.#endAttempt("answered", false);
    this.#write({
      type: "end",
      finishReason: done.finishReason,
      usage: done.usage,
      trace: this.#traceOf(attempt),
      ...(done.toolCalls && { toolCalls: done.toolCalls }),
    });
    this.#finish();
  }

  /** The answer is this attempt's from here on: send headers and what was held. */
  #commit(attempt: Attempting): void {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const { model, nodeId } = attempt.candidate;
    const response = new Response(readable, {
      headers: {
        "content-type": "application/x-ndjson",
        [RungHeader.model]: model.id,
        [RungHeader.node]: this.host.nodeName(nodeId),
        [RungHeader.attempts]: String(this.#trace.length + 1),
      },
    });
    // Past the deadline a committed answer only has to keep moving: the silence timer guards it.
    clearTimeout(this.#deadline);
    this.#writer = writable.getWriter();
    this.#writer.closed.catch(() => this.abandon());
    this.#resolve(response);
    if (this.#held.length > 0) this.#write({ type: "delta", text: this.#held.join("") });
    this.#held = [];
  }

  #fail(error: WireError, cancelNode = true): void {
    if (this.#ended) return;
    this.#errors.push(error);
    this.#endAttempt(error.code, cancelNode);
    if (this.#writer) {
      this.#write({ type: "fail", code: error.code, message: error.message });
      return this.#finish();
    }
    if (!error.retryable) {
      return this.#refuse(new ApiError({ status: 502, message: `The node failed: ${error.message}`, code: error.code }));
    }
    this.#held = [];
    this.#heldCharacters = 0;
    this.#next();
  }

  #listenForSilence(attempt: Attempting): void {
    clearTimeout(attempt.silence);
    attempt.silence = setTimeout(() => {
      const seconds = this.host.tokenTimeoutMs / 1000;
      this.#fail(wireError(WireErrorCode.timeout, `the node sent no token for ${seconds}s`, true));
    }, this.host.tokenTimeoutMs);
  }

  #onDeadline(): void {
    if (this.#ended || this.#writer) return;
    this.#errors.push(wireError(WireErrorCode.timeout, `no answer within ${this.host.requestTimeoutMs / 1000}s`, false));
    this.#endAttempt(WireErrorCode.timeout, true);
    this.#refuse(this.#exhaustedError());
  }

  #endAttempt(outcome: string, cancelNode: boolean): void {
    const attempt = this.#attempt;
    if (!attempt) return;
    this.#attempt = undefined;
    clearTimeout(attempt.silence);
    clearTimeout(attempt.gap);
    const { nodeId } = attempt.candidate;
    if (cancelNode) this.host.cancel(nodeId, attempt.id);
    this.host.release(nodeId, attempt.id);
    if (outcome !== "answered") this.#trace.push(this.#attemptOf(attempt, outcome));
  }

  #traceOf(attempt: Attempting) {
    const answered = this.#attemptOf(attempt, "answered");
    return { model: answered.model, node: answered.node, escalations: 0, attempts: [...this.#trace, answered] };
  }

  #attemptOf(attempt: Attempting, outcome: string): Attempt {
    return {
      model: attempt.candidate.model.id,
      node: this.host.nodeName(attempt.candidate.nodeId),
      outcome,
      ms: Date.now() - attempt.startedAt,
    };
  }

  /** No candidate answered: the status says what went wrong most usefully to the client. */
  #exhaustedError(): ApiError {
    const tried = this.#trace.map((a) => `${a.model}@${a.node}: ${a.outcome}`).join("; ");
    const detail = tried ? ` Attempts: ${tried}.` : "";
    const timeout = this.#errors.find((e) => e.code === WireErrorCode.timeout);
    if (timeout) {
      return new ApiError({ status: 504, message: `The request timed out: ${timeout.message}.${detail}`, code: "timeout" });
    }
    // Only when every node said the prompt is too long is it the client's to fix.
    if (this.#errors.length > 0 && this.#errors.every((e) => e.code === WireErrorCode.contextLengthExceeded)) {
      return new ApiError({ status: 400, message: `${this.#errors[0]!.message}.${detail}`, code: WireErrorCode.contextLengthExceeded });
    }
    return new ApiError({
      status: 503,
      message: `No node could serve the request.${detail || " Every candidate node left or refused it."}`,
      code: "no_capable_node",
    });
  }

  #refuse(error: ApiError): void {
    this.#resolve(error.toResponse());
    this.#finish();
  }

  #write(event: JobEvent): void {
    this.#writer?.write(new TextEncoder().encode(`${JSON.stringify(event)}\n`)).catch(() => this.abandon());
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#deadline);
    if (this.#writer) this.#writer.close().catch(() => {});
  }
}
