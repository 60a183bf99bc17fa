import type { GeneratedPiece } from "@rung/shared/node";

export interface StopTextResult {
  /** Pieces safe to send: they can no longer turn out to be part of a stop string. */
  ready: GeneratedPiece[];
  /** A stop string was found; `ready` ends just before it and the rest is dropped. */
  stopped: boolean;
}

/**
 * Applies OpenAI-style `stop` strings to streamed text. Text that could be the
 * beginning of a stop string is held back until the next pieces confirm or rule
 * it out, so a client never sees half of a stop string. Held text keeps the
 * confidence (margin, entropy) of the piece it came from, so splitting a piece never blurs it.
 */
export class StopTextFilter {
  readonly #stops: readonly string[];
  #held: GeneratedPiece[] = [];

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  push(piece: GeneratedPiece): StopTextResult {
    if (piece.text) this.#held.push(piece);
    const text = this.#held.map((p) => p.text).join("");
    const stopAt = this.#firstStop(text);
    if (stopAt >= 0) {
      const ready = this.#take(stopAt);
      this.#held = [];
      return { ready, stopped: true };
    }
    return { ready: this.#take(text.length - this.#possibleStopPrefix(text)), stopped: false };
  }

  /** At the end of generation nothing can complete a stop string any more: release the rest. */
  flush(): GeneratedPiece[] {
    const rest = this.#held;
    this.#held = [];
    return rest;
  }

  #firstStop(text: string): number {
    let first = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  #possibleStopPrefix(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }

  /** Remove the first `count` characters of held text, as pieces. */
  #take(count: number): GeneratedPiece[] {
    const out: GeneratedPiece[] = [];
    let left = count;
    while (left > 0 && this.#held.length > 0) {
      const head = this.#held[0]!;
      if (head.text.length <= left) {
        out.push(head);
        this.#held.shift();
        left -= head.text.length;
      } else {
        out.push({ ...head, text: head.text.slice(0, left) });
        this.#held[0] = { ...head, text: head.text.slice(left) };
        left = 0;
      }
    }
    return out;
  }
}
