import { type Chunk, ChunkSequencer, chunkSignals, type Job, type WireError, WireErrorCode, wireError } from "@rung/shared/protocol";
import type { Tier } from "../keys/caller.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { QueuedTimer } from "./timer-queue.ts";

/**
 * Bounds on what one node can make the edge hold for one job: a node that
 * skips a sequence number or streams without end must not exhaust the object's
 * memory, which every request in the pool shares.
 */
export const MAX_EARLY_CHUNKS = 256;
export const MAX_HELD_CHARACTERS = 4 * 1024 * 1024;

/** One dispatch of a request's job to one node: what it sent so far and its timers. */
export class Attempt {
  readonly sequencer = new ChunkSequencer();
  readonly startedAt = Date.now();
  /** Text the edge holds until the answer commits (and the commit window judges it). */
  readonly pieces: string[] = [];
  /**
   * One entry per token, however many tokens each frame carried: the commit
   * window counts and judges these. Margins and entropies stay empty until a
   * frame carries some, and are then kept aligned with the confidences.
   */
  readonly signals = { confidences: [] as (number | null)[], margins: [] as (number | null)[], entropies: [] as (number | null)[] };
  #heldCharacters = 0;
  firstTokenAt: number | undefined;
  /** When the node was last heard from (dispatch, then every chunk). */
  heardAt = Date.now();
  /** Fires when the node has been silent for the token timeout since `heardAt`. */
  silence: QueuedTimer | null = null;
  /** Fires when chunks are still missing a while after `done`. */
  gap: QueuedTimer | null = null;

  constructor(
    readonly id: string,
    /** Index of the attempt's rung in the request's ladder. */
    readonly rungIndex: number,
    readonly modelId: string,
    readonly nodeId: string,
    /** Started beside a slow attempt of the same model, not instead of one. */
    readonly hedge: boolean,
    /** The node's trust tier, for the trace. */
    readonly tier: Tier,
    /** The client asked for each token's signals in the trace. */
    readonly traceTokens = false,
  ) {}

  /** Keeps a chunk until the answer commits; false once the answer grew past what the edge will hold. */
  hold(chunk: Chunk): boolean {
    this.pieces.push(chunk.text);
    for (const { confidence, margin, entropy } of chunkSignals(chunk)) {
      this.signals.confidences.push(confidence);
      this.signals.margins.push(margin);
      this.signals.entropies.push(entropy);
    }
    this.#heldCharacters += chunk.text.length;
    return this.#heldCharacters <= MAX_HELD_CHARACTERS;
  }

  takeHeld(): string {
    const text = this.pieces.join("");
    this.pieces.length = 0;
    this.#heldCharacters = 0;
    return text;
  }

  /** The node broke its chunk sequence beyond repair: more chunks than it counted, or too many past a gap. */
  sequenceError(): WireError | undefined {
    if (this.sequencer.isInconsistent) return wireError(WireErrorCode.sequenceGap, "node sent more chunks than it counted", true);
    if (this.sequencer.waiting > MAX_EARLY_CHUNKS) {
      return wireError(WireErrorCode.sequenceGap, `node sent over ${MAX_EARLY_CHUNKS} chunks past a gap`, true);
    }
    return undefined;
  }

  stopTimers(): void {
    this.silence?.cancel();
    this.gap?.cancel();
  }
}

/**
 * The wire job of one attempt: the request's job, on one model; `tokenSignals`
 * asks the node for margins and entropies (a judge reads them, or the client
 * asked to see them), which cost a node a pass over the vocabulary per token.
 */
export function attemptJob(job: FabricJob, jobId: string, modelId: string, tokenSignals = false): Job {
  return {
    type: "job",
    jobId,
    model: modelId,
    input: job.input,
    sampling: job.sampling,
    ...(tokenSignals && { tokenSignals: true }),
    ...(job.responseFormat && { responseFormat: job.responseFormat }),
    ...(job.tools && { tools: job.tools, toolChoice: job.toolChoice }),
  };
}
