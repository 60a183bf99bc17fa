const encoder = new TextEncoder();

/**
 * Writes text to a byte stream one write at a time: what arrives while a
 * write is in flight (its reader has not taken the last bytes yet) joins the
 * next one. A reader that keeps up gets every event as it comes; one that
 * falls behind gets fewer, larger chunks instead of a queue of tiny ones,
 * each of which would cost the runtime a trip through both streams.
 */
export class CoalescingWriter {
  #pending = "";
  #writing = false;
  #closing = false;
  #gone = false;

  constructor(
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    /** The reader went away (the client left): once. */
    private readonly onGone: () => void,
  ) {
    writer.closed.catch(() => this.#lost());
  }

  write(text: string): void {
    if (this.#gone || this.#closing) return;
    this.#pending += text;
    if (!this.#writing) this.#flush();
  }

  /** Closes the stream once what was written has gone out. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#writing) this.#flush();
  }

  #flush(): void {
    if (this.#gone) return;
    if (this.#pending) {
      const bytes = encoder.encode(this.#pending);
      this.#pending = "";
      this.#writing = true;
      this.writer.write(bytes).then(
        () => {
          this.#writing = false;
          this.#flush();
        },
        () => this.#lost(),
      );
    } else if (this.#closing) {
      this.writer.close().catch(() => {});
    }
  }

  #lost(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.onGone();
  }
}
