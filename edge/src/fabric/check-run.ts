import { type Chunk, ChunkSequencer, type Done, type Job, type JobError, type ToolCall } from "@rung/shared/protocol";
import { MAX_EARLY_CHUNKS, MAX_HELD_CHARACTERS } from "./attempt.ts";

/** What one node answered to a check's job, whole, or why it did not. */
export type CheckAnswer = { ok: true; text: string; toolCalls?: ToolCall[]; completionTokens: number } | { ok: false; reason: string };

/** What a running check needs from the router: its frames, and the node going away. */
export interface FrameTarget {
  onFrame(frame: Chunk | Done | JobError): void;
  onNodeGone(nodeId: string): void;
  crash(error: unknown): void;
}

/**
 * One job run on one node only to see its answer, never a client's: a public
 * node's greedy answer run again on a trusted node, or a canary run on the
 * public node itself. No retries, hedges or climbs: a check that cannot finish
 * is `failed`, which decides nothing about the node.
 */
export class CheckRun implements FrameTarget {
  readonly answer: Promise<CheckAnswer>;
  readonly #sequencer = new ChunkSequencer();
  readonly #pieces: string[] = [];
  #characters = 0;
  #settle!: (answer: CheckAnswer) => void;
  #timer: ReturnType<typeof setTimeout>;
  #ended = false;

  constructor(
    readonly job: Job,
    readonly nodeId: string,
    timeoutMs: number,
    /** The check ended, whichever way: free the node's slot and stop routing its frames here. */
    private readonly onEnd: (check: CheckRun, cancelNode: boolean) => void,
  ) {
    this.answer = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.#timer = setTimeout(() => this.#end({ ok: false, reason: `no answer within ${timeoutMs / 1000}s` }, true), timeoutMs);
  }

  onFrame(frame: Chunk | Done | JobError): void {
    if (this.#ended) return;
    if (frame.type === "job-error") return this.#end({ ok: false, reason: frame.error.message }, false);
    for (const event of this.#sequencer.push(frame)) {
      if (event.type === "done") {
        const { toolCalls, usage } = event.done;
        return this.#end(
          { ok: true, text: this.#pieces.join(""), ...(toolCalls && { toolCalls }), completionTokens: usage.completionTokens },
          false,
        );
      }
      this.#pieces.push(event.chunk.text);
      this.#characters += event.chunk.text.length;
    }
    if (this.#characters > MAX_HELD_CHARACTERS || this.#sequencer.waiting > MAX_EARLY_CHUNKS || this.#sequencer.isInconsistent) {
      this.#end({ ok: false, reason: "the node broke its answer's bounds or sequence" }, true);
    }
  }

  onNodeGone(nodeId: string): void {
    if (nodeId === this.nodeId) this.#end({ ok: false, reason: "the node disconnected" }, false);
  }

  crash(error: unknown): void {
    this.#end({ ok: false, reason: `the edge failed: ${String(error)}` }, true);
  }

  #end(answer: CheckAnswer, cancelNode: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.onEnd(this, cancelNode);
    this.#settle(answer);
  }
}
