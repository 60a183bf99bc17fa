import { type ChunkToken, chunkFrame } from "../protocol/chunk-tokens.ts";
import type { Chunk } from "../protocol/messages.ts";

/** Tokens one frame carries at most: enough to cut per-frame costs, few enough that a client sees text often. */
export const MAX_TOKENS_PER_FRAME = 64;

export interface ChunkBatcherOptions {
  /** Several tokens a frame: only for an edge that speaks 1.4. */
  batching: boolean;
  /**
   * Keep each token's margin and entropy (`margins`, `entropies`): only when the job asked
   * and the edge speaks 1.7. Otherwise they are dropped, whatever the engine reported.
   */
  signals: boolean;
}

/**
 * Numbers one job's tokens into chunk frames. Batching (for an edge that
 * speaks 1.4) puts the tokens produced before a queued microtask runs into one
 * frame: an engine that decodes one token per async step still sends each at
 * once, while one that is ahead (a synchronous loop) sends up to
 * MAX_TOKENS_PER_FRAME a frame. Without batching every token is its own frame.
 * Margins and entropies, when kept, travel beside the confidences, token by token.
 */
export class ChunkBatcher {
  #frames = 0;
  #pending: ChunkToken[] = [];
  #scheduled = false;
  readonly #perFrame: number;
  readonly #signals: boolean;

  constructor(
    private readonly jobId: string,
    private readonly send: (chunk: Chunk) => void,
    { batching, signals }: ChunkBatcherOptions,
  ) {
    this.#perFrame = batching ? MAX_TOKENS_PER_FRAME : 1;
    this.#signals = signals;
  }

  /** Frames sent so far: `done.chunks`. */
  get frames(): number {
    return this.#frames;
  }

  push(token: ChunkToken): void {
    const { text, confidence, margin, entropy } = token;
    this.#pending.push(this.#signals ? { text, confidence, margin, entropy } : { text, confidence });
    if (this.#pending.length >= this.#perFrame) return this.flush();
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A microtask exists in Node and browsers alike, and runs before any timer or I/O: batching adds no latency.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Send what is pending; the session calls it before `done` or `job-error` so they follow the last token. */
  flush(): void {
    const [first, ...rest] = this.#pending;
    if (!first) return;
    this.#pending = [];
    this.send(chunkFrame(this.jobId, this.#frames++, [first, ...rest]));
  }
}
