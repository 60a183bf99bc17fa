import {
  PROTOCOL_VERSION,
  type EdgeMessage,
  type Hello,
  type Job,
  type NodeMessage,
} from "../protocol/messages.ts";
import { WireErrorCode, wireError, type WireError } from "../protocol/wire-error.ts";
import { toWireError } from "./engine-error.ts";
import type { InferenceEngine } from "./inference-engine.ts";

export interface NodeIdentity {
  name: string;
  kind: Hello["node"]["kind"];
}

/**
 * The node side of the protocol, independent of transport: turns `job` and
 * `cancel` frames into engine calls and engine pieces into numbered `chunk`
 * frames. Native agents and browser tabs each wrap one in their own socket.
 */
export class NodeSession {
  readonly #jobs = new Map<string, AbortController>();
  readonly #idle = new Set<() => void>();
  #draining = false;

  constructor(
    private readonly engine: InferenceEngine,
    private readonly identity: NodeIdentity,
    /** Where frames go; the link swaps sockets underneath on reconnect. */
    private readonly send: (frame: NodeMessage) => void,
  ) {}

  get activeJobs(): number {
    return this.#jobs.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  hello(): Hello {
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      node: {
        name: this.identity.name,
        kind: this.identity.kind,
        engine: this.engine.name,
        slots: this.engine.slots,
      },
      models: [...this.engine.models],
    };
  }

  handle(frame: EdgeMessage): void {
    if (frame.type === "job") void this.#run(frame);
    else if (frame.type === "cancel") this.#jobs.get(frame.jobId)?.abort();
  }

  /** Stop every job, e.g. when the socket dropped and the edge has already given up on them. */
  abortAll(): void {
    for (const controller of this.#jobs.values()) controller.abort();
  }

  /**
   * Take no new jobs, let running ones finish until the deadline, then abort
   * the rest; their edge sees a retryable `draining` error and moves them on.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.#draining = true;
    this.send({ type: "draining" });
    const idle = new Promise<void>((resolve) => {
      if (this.#jobs.size === 0) resolve();
      else this.#idle.add(resolve);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    });
    if ((await Promise.race([idle, deadline])) === "deadline") {
      this.abortAll();
      await idle;
    }
    clearTimeout(timer);
  }

  async #run(job: Job): Promise<void> {
    const refusal = this.#refusal(job);
    if (refusal) {
      this.send({ type: "job-error", jobId: job.jobId, error: refusal });
      return;
    }
    const controller = new AbortController();
    this.#jobs.set(job.jobId, controller);
    let seq = 0;
    try {
      const result = await this.engine.generate(
        { model: job.model, input: job.input, sampling: job.sampling },
        {
          signal: controller.signal,
          onPiece: ({ text, confidence }) => {
            this.send({ type: "chunk", jobId: job.jobId, seq: seq++, text, confidence });
          },
        },
      );
      if (controller.signal.aborted) throw abortedError(this.#draining);
      this.send({ type: "done", jobId: job.jobId, chunks: seq, ...result });
    } catch (error) {
      const wire = controller.signal.aborted ? abortedError(this.#draining) : toWireError(error);
      this.send({ type: "job-error", jobId: job.jobId, error: wire });
    } finally {
      this.#jobs.delete(job.jobId);
      if (this.#jobs.size === 0) {
        for (const resolve of this.#idle) resolve();
        this.#idle.clear();
      }
    }
  }

  #refusal(job: Job): WireError | undefined {
    if (this.#draining) return wireError(WireErrorCode.draining, "node is shutting down", true);
    if (this.#jobs.has(job.jobId)) return wireError(WireErrorCode.badFrame, `job ${job.jobId} is already running`, false);
    if (this.#jobs.size >= this.engine.slots) return wireError(WireErrorCode.busy, "every slot is taken", true);
    if (!this.engine.models.some((m) => m.id === job.model)) {
      return wireError(WireErrorCode.unknownModel, `this node does not serve ${job.model}`, true);
    }
    return undefined;
  }
}

function abortedError(draining: boolean): WireError {
  return draining
    ? wireError(WireErrorCode.draining, "node shut down before the job finished", true)
    : wireError(WireErrorCode.cancelled, "job was cancelled", false);
}
