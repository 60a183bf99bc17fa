/** A line longer than the reader allows: the writer is broken or hostile. */
export class LineTooLongError extends Error {
  override readonly name = "LineTooLongError";
}

export interface ReadLinesOptions {
  /** Aborting cancels the body, which tells whoever writes it that nobody reads any more. */
  signal?: AbortSignal;
  /** Longest line accepted, in characters; a longer one cancels the body and throws. Default: no limit. */
  maxLineLength?: number;
}

/** The lines of a streamed body, as they arrive (NDJSON from the fabric or from a tunnel node). */
export async function* readLines(body: ReadableStream<Uint8Array>, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  options.signal?.addEventListener("abort", () => void reader.cancel().catch(() => {}));
  const maxLineLength = options.maxLineLength ?? Number.POSITIVE_INFINITY;
  // The start of a line whose end has not arrived; each piece of text is searched for newlines once.
  let partial = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      for (let newline = value.indexOf("\n"); newline >= 0; newline = value.indexOf("\n", start)) {
        const line = partial + value.slice(start, newline);
        partial = "";
        start = newline + 1;
        if (line.length > maxLineLength) throw new LineTooLongError(`a line of ${line.length} characters exceeds ${maxLineLength}`);
        if (line) yield line;
      }
      partial += value.slice(start);
      if (partial.length > maxLineLength) throw new LineTooLongError(`a line grew past ${maxLineLength} characters`);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
