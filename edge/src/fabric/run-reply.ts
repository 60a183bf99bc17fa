import type { Attempt as AttemptTrace } from "@rung/shared/openai";
import type { Done, WireError } from "@rung/shared/protocol";
import { isGreedy } from "@rung/shared/routing";
import type { ApiError } from "../middleware/api-error.ts";
import { AnswerWriter } from "./answer-writer.ts";
import type { Attempt } from "./attempt.ts";
import type { FabricJob, JobEvent } from "./fabric-job.ts";
import type { JobRunHost, RunSummary } from "./job-run-host.ts";
import type { RunLadder } from "./run-ladder.ts";
import { attemptTrace, type RunTrace, rungHeaders } from "./run-trace.ts";

/** A complete answer that looked weak, kept in case every larger rung fails. */
interface KeptAnswer {
  attempt: Attempt;
  text: string;
  done: Done;
  /** Where its `escalated` entry sits in the trace. */
  traceIndex: number;
}

/**
 * What the client gets from one request: a refusal before any byte, or, once
 * the answer commits, its body of events ending with `end` (and the trace) or
 * `fail`. The promise settles exactly once (later settlements are no-ops), so
 * every accepted request gets an answer. Also keeps a weak answer, in case
 * every larger rung fails.
 */
export class RunReply {
  readonly response: Promise<Response>;
  #resolve!: (response: Response) => void;
  /** Set once the answer committed: writes the client's body. */
  #body: AnswerWriter | undefined;
  #kept: KeptAnswer | undefined;
  /** What the commit window measured on the answer that committed. */
  #confidence: AttemptTrace["confidence"];
  /** How the request is ending, for its summary; 499 (the client left) until something else is known. */
  #ending: Pick<RunSummary, "status" | "model" | "usage" | "nodeMs" | "checkable"> = { status: 499 };
  /** When the committed answer's first token came. */
  #firstTokenAt: number | undefined;
  #answered: AttemptTrace | undefined;
  /** The committing attempt. */
  #answering: Attempt | undefined;
  /** The committed answer's text, kept only when it is a public node's greedy answer that may be checked once it ends. */
  #checkedText: string[] | undefined;

  constructor(
    private readonly job: Pick<FabricJob, "requestId" | "stream" | "reply" | "sampling">,
    private readonly trace: RunTrace,
    private readonly ladder: RunLadder,
    private readonly host: Pick<JobRunHost, "nodeName">,
    /** The answer commits: the headers are about to go. */
    private readonly onCommit: () => void,
    /** The Worker (and behind it the client) stopped reading the committed body. */
    private readonly onReaderGone: () => void,
  ) {
    this.response = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get committed(): boolean {
    return this.#body !== undefined;
  }

  get hasKept(): boolean {
    return this.#kept !== undefined;
  }

  /** The answer is this attempt's from here on: send headers and what was held. */
  commit(attempt: Attempt, confidence?: AttemptTrace["confidence"]): void {
    this.#confidence = confidence;
    this.#open(attempt);
    const held = attempt.takeHeld();
    if (held) this.write({ type: "delta", text: held });
  }

  write(event: JobEvent): void {
    if (event.type === "delta") this.#checkedText?.push(event.text);
    this.#body?.write(event);
  }

  /** The committed attempt is done: the last event carries the finish reason, usage and trace. */
  end(attempt: Attempt, done: Done): void {
    const confidence = this.#confidence;
    this.#end(done, attemptTrace(attempt, this.host.nodeName(attempt.nodeId), "answered", confidence ? { confidence } : {}));
  }

  /** The answer broke after the client had part of it. */
  fail(error: WireError): void {
    this.#ending = { ...this.#ending, status: 502 };
    this.write({ type: "fail", code: error.code, message: error.message });
  }

  /** A complete but weak answer that climbs: its `escalated` entry is the next in the trace. */
  keep(attempt: Attempt, text: string, done: Done): void {
    this.#kept = { attempt, text, done, traceIndex: this.trace.length };
  }

  /** Every larger rung failed after a weak answer: the weak answer beats an error. False when none was kept. */
  answerWithKept(): boolean {
    if (!this.#kept) return false;
    const { attempt, text, done, traceIndex } = this.#kept;
    this.#kept = undefined;
    const answered = this.trace.keep(traceIndex);
    this.#open(attempt);
    if (text) this.write({ type: "delta", text });
    this.#end(done, answered);
    return true;
  }

  refuse(error: ApiError): void {
    this.#ending = { status: error.status };
    this.#resolve(error.toResponse());
  }

  /** The client went away before the answer committed: nobody reads it, but the promise settles as promised. */
  abandoned(): void {
    // 499: the client closed the request.
    if (!this.#body) this.#resolve(new Response(null, { status: 499 }));
  }

  close(): void {
    this.#body?.close();
  }

  /** How the request ended, given when it started and what its attempts did. */
  summary(startedAt: number): RunSummary {
    return {
      ...this.#ending,
      totalMs: Date.now() - startedAt,
      ...(this.#firstTokenAt !== undefined && { firstTokenMs: this.#firstTokenAt - startedAt }),
      attempts: this.#answered ? [...this.trace.attempts, this.#answered] : this.trace.attempts,
    };
  }

  #open(attempt: Attempt): void {
    this.onCommit();
    this.#ending = { status: 499, model: attempt.modelId };
    this.#answering = attempt;
    this.#checkedText = attempt.tier === "public" && isGreedy(this.job.sampling) ? [] : undefined;
    this.#firstTokenAt = attempt.firstTokenAt;
    const headers = rungHeaders({
      model: attempt.modelId,
      node: this.host.nodeName(attempt.nodeId),
      attempts: this.trace.length + 1,
      escalations: this.ladder.climbs,
    });
    this.#body = new AnswerWriter(this.job, { requestId: this.job.requestId, model: attempt.modelId }, headers, {
      respond: this.#resolve,
      readerGone: this.onReaderGone,
    });
  }

  #end(done: Done, answered: AttemptTrace): void {
    this.#ending = { ...this.#ending, status: 200, usage: done.usage, nodeMs: answered.ms };
    if (this.#checkedText && this.#answering) {
      const { nodeId, modelId } = this.#answering;
      this.#ending.checkable = { nodeId, modelId, text: this.#checkedText.join(""), toolCalls: done.toolCalls };
    }
    this.#answered = answered;
    const trace = this.trace.rung(answered, this.ladder.climbs, this.ladder.plan);
    this.write({
      type: "end",
      finishReason: done.finishReason,
      usage: done.usage,
      trace,
      ...(done.toolCalls && { toolCalls: done.toolCalls }),
    });
  }
}
