import type { Chunk, Done } from "./messages.ts";

export type SequencerEvent = { type: "chunk"; chunk: Chunk } | { type: "done"; done: Done };

/**
 * Puts a job's chunks back in `seq` order. Transports may deliver frames out of
 * order (the Workers test pool does with hibernated sockets), so the receiver
 * holds early chunks until the gap before them fills, and releases `done` only
 * once every chunk it counts has been released.
 */
export class ChunkSequencer {
  #next = 0;
  readonly #early = new Map<number, Chunk>();
  #done: Done | undefined;

  /** Feed one frame; returns the events now ready, in order. */
  push(frame: Chunk | Done): SequencerEvent[] {
    if (frame.type === "done") this.#done = frame;
    else if (frame.seq >= this.#next && !this.#early.has(frame.seq)) this.#early.set(frame.seq, frame);
    return this.#drain();
  }

  /** Chunks received past a gap, waiting for it to fill. */
  get waiting(): number {
    return this.#early.size;
  }

  /** True while chunks are missing before a received `done` or a later chunk. */
  get hasGap(): boolean {
    return this.#early.size > 0 || (this.#done !== undefined && this.#done.chunks > this.#next);
  }

  /** True when `done` counts fewer chunks than were already released (a lying or broken node). */
  get isInconsistent(): boolean {
    return this.#done !== undefined && this.#done.chunks < this.#next;
  }

  #drain(): SequencerEvent[] {
    const ready: SequencerEvent[] = [];
    for (let chunk = this.#early.get(this.#next); chunk; chunk = this.#early.get(this.#next)) {
      this.#early.delete(this.#next);
      this.#next += 1;
      ready.push({ type: "chunk", chunk });
    }
    if (this.#done && this.#done.chunks === this.#next && this.#early.size === 0) {
      ready.push({ type: "done", done: this.#done });
      this.#done = undefined;
    }
    return ready;
  }
}
