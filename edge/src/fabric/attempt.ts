import type { Attempt as AttemptTrace } from "@rung/shared/openai";
import { type Chunk, ChunkSequencer } from "@rung/shared/protocol";

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
  readonly confidences: (number | null)[] = [];
  #heldCharacters = 0;
  firstTokenAt: number | undefined;
  /** Fires when the node has been silent for the token timeout; reset by every chunk. */
  silence: ReturnType<typeof setTimeout> | null = null;
  /** Fires when chunks are still missing a while after `done`. */
  gap: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly id: string,
    /** Index of the attempt's rung in the request's ladder. */
    readonly rungIndex: number,
    readonly modelId: string,
    readonly nodeId: string,
    /** Started beside a slow attempt of the same model, not instead of one. */
    readonly hedge: boolean,
  ) {}

  /** Keeps a chunk until the answer commits; false once the answer grew past what the edge will hold. */
  hold(chunk: Chunk): boolean {
    this.pieces.push(chunk.text);
    this.confidences.push(chunk.confidence);
    this.#heldCharacters += chunk.text.length;
    return this.#heldCharacters <= MAX_HELD_CHARACTERS;
  }

  takeHeld(): string {
    const text = this.pieces.join("");
    this.pieces.length = 0;
    this.#heldCharacters = 0;
    return text;
  }

  stopTimers(): void {
    clearTimeout(this.silence);
    clearTimeout(this.gap);
  }

  traceOf(node: string, outcome: string, extra: Pick<AttemptTrace, "reason" | "confidence"> = {}): AttemptTrace {
    return {
      model: this.modelId,
      node,
      outcome,
      ...(extra.reason === undefined ? {} : { reason: extra.reason }),
      ms: Date.now() - this.startedAt,
      ...(this.firstTokenAt === undefined ? {} : { firstTokenMs: this.firstTokenAt - this.startedAt }),
      ...(extra.confidence === undefined ? {} : { confidence: extra.confidence }),
    };
  }
}
