import type { JobEvent } from "./fabric-job.ts";

/**
 * The body of a committed answer, as the Durable Object hands it to the
 * Worker: one JSON event a line. A write that fails means the reader (the
 * Worker, and behind it the client) went away.
 */
export class AnswerStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();

  constructor(private readonly onReaderGone: () => void) {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.#readable = readable;
    this.#writer = writable.getWriter();
    this.#writer.closed.catch(onReaderGone);
  }

  response(headers: Record<string, string>): Response {
    return new Response(this.#readable, { headers: { "content-type": "application/x-ndjson", ...headers } });
  }

  write(event: JobEvent): void {
    this.#writer.write(this.#encoder.encode(`${JSON.stringify(event)}\n`)).catch(this.onReaderGone);
  }

  close(): void {
    this.#writer.close().catch(() => {});
  }
}
