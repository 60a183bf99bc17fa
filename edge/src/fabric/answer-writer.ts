import { errorBody, type Meta, usageOf } from "@rung/shared/openai";
import { REQUEST_ID_HEADER } from "../middleware/request-id.ts";
import { type Dialect, dialects } from "../openai/dialect.ts";
import { CoalescingWriter } from "./coalescing-writer.ts";
import type { FabricJob, JobEvent } from "./fabric-job.ts";

/** How the client asked for its answer: which endpoint's shapes, streamed or whole, usage at the end of a stream. */
export type ReplyShape = Pick<FabricJob, "stream" | "reply">;

export interface AnswerWriterHost {
  /** The client's response: at once for a stream, once the answer is whole otherwise. */
  respond(response: Response): void;
  /** The client stopped reading the stream. */
  readerGone(): void;
}

/** Stands for a delta's text while its event is serialized once; ids are printable ASCII, so it cannot occur in one. */
const TEXT_MARK = JSON.stringify("\u0000text\u0000");

/** How a stream that never got its end is ended, whether the object or the Worker notices. */
export const INCOMPLETE_ANSWER = { code: "incomplete_answer", message: "The answer ended before it was complete." } as const;

/**
 * Writes a committed answer as the client's own bytes: OpenAI's server-sent
 * events for a stream, one JSON body for a whole answer. The Durable Object
 * writes them itself, so an answer is serialized once, where it is made, and
 * the Worker passes the bytes on without reading them again.
 */
export class AnswerWriter {
  readonly #dialect: Dialect;
  readonly #meta: Meta;
  readonly #headers: Headers;
  #writer: CoalescingWriter | undefined;
  /** A whole answer's text, gathered until its end. */
  #text = "";
  /** A delta's event before and after its text, serialized at the first delta. */
  #pieceAround: [string, string] | undefined;
  #ended = false;

  constructor(
    private readonly shape: ReplyShape,
    meta: { requestId: string; model: string },
    headers: Record<string, string>,
    private readonly host: AnswerWriterHost,
  ) {
    this.#dialect = dialects[shape.reply.dialect];
    this.#meta = {
      id: `${this.#dialect.idPrefix}${meta.requestId.replace(/^req_/, "")}`,
      created: Math.floor(Date.now() / 1000),
      model: meta.model,
    };
    this.#headers = new Headers(headers);
    this.#headers.set(REQUEST_ID_HEADER, meta.requestId);
    if (shape.stream) this.#open();
  }

  write(event: JobEvent): void {
    if (this.#ended) return;
    if (!this.shape.stream) return this.#gather(event);
    if (event.type === "delta") {
      // Pieces of a tool call arrive with empty text (the call comes whole at the end): nothing to send for them.
      if (event.text) this.#send(this.#piece(event.text));
      return;
    }
    this.#ended = true;
    if (event.type === "fail") {
      this.#send(eventText(errorBody({ status: 502, message: event.message, code: event.code })));
    } else {
      const closings = this.#dialect.closing(this.#meta, event.finishReason, event.toolCalls);
      // The stream's last chunk explains the answer, as `rung` does in a whole one: the usage chunk when asked for, else the closing one.
      if (!this.shape.reply.includeUsage) closings.push({ ...closings.pop()!, rung: event.trace });
      for (const closing of closings) this.#send(this.#chunk(closing));
      const usage = usageOf(event.usage.promptTokens, event.usage.completionTokens);
      if (this.shape.reply.includeUsage) this.#send(eventText(this.#dialect.usage(this.#meta, usage, event.trace)));
    }
    this.#send(eventText("[DONE]"));
  }

  /** No more events: a stream that never got its end still ends as every stream does, with an error event and [DONE]. */
  close(): void {
    if (!this.#ended) this.write({ type: "fail", ...INCOMPLETE_ANSWER });
    this.#writer?.close();
  }

  #open(): void {
    const { readable, writable } = new IdentityTransformStream();
    this.#writer = new CoalescingWriter(writable.getWriter(), () => this.host.readerGone());
    this.#headers.set("content-type", "text/event-stream; charset=utf-8");
    this.#headers.set("cache-control", "no-cache");
    this.host.respond(new Response(readable, { headers: this.#headers }));
    const opening = this.#dialect.opening(this.#meta);
    if (opening) this.#send(this.#chunk(opening));
  }

  #gather(event: JobEvent): void {
    if (event.type === "delta") {
      this.#text += event.text;
      return;
    }
    this.#ended = true;
    if (event.type === "fail") {
      const body = errorBody({ status: 502, message: event.message, code: event.code });
      return this.host.respond(Response.json(body, { status: 502, headers: this.#headers }));
    }
    const usage = usageOf(event.usage.promptTokens, event.usage.completionTokens);
    const body = this.#dialect.whole(this.#meta, this.#text, event.finishReason, usage, event.trace, event.toolCalls);
    this.host.respond(Response.json(body, { headers: this.#headers }));
  }

  /** A chunk with choices; chat streams with include_usage say `usage: null` on each until the usage chunk. */
  #chunk(data: object): string {
    return eventText(this.#withUsage(data));
  }

  #withUsage(data: object): object {
    return this.shape.reply.includeUsage && this.#dialect.nullUsageBeforeLast ? { ...data, usage: null } : data;
  }

  /** Deltas differ only in their text: the rest of the event is serialized once per answer, not per token. */
  #piece(text: string): string {
    if (!this.#pieceAround) {
      const event = eventText(this.#withUsage(this.#dialect.piece(this.#meta, JSON.parse(TEXT_MARK))));
      const at = event.indexOf(TEXT_MARK);
      this.#pieceAround = [event.slice(0, at), event.slice(at + TEXT_MARK.length)];
    }
    return this.#pieceAround[0] + JSON.stringify(text) + this.#pieceAround[1];
  }

  #send(text: string): void {
    this.#writer?.write(text);
  }
}

function eventText(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}
