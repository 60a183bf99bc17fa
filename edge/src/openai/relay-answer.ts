import { errorBody, type Meta, usageOf } from "@rung/shared/openai";
import { type JobEvent, RungHeader } from "../fabric/fabric-job.ts";
import { ApiError } from "../middleware/api-error.ts";
import type { Dialect } from "./dialect.ts";
import { readJobEvents } from "./read-job-events.ts";

export interface RelayOptions {
  dialect: Dialect;
  requestId: string;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * Turns the fabric's committed answer into OpenAI's body: one JSON object, or
 * server-sent events ending in `[DONE]`. Refusals from the fabric are already
 * OpenAI-shaped errors and pass through untouched.
 */
export async function relayAnswer(fabricResponse: Response, options: RelayOptions): Promise<Response> {
  if (!fabricResponse.ok || !fabricResponse.body) return fabricResponse;
  const model = fabricResponse.headers.get(RungHeader.model) ?? "unknown";
  const meta: Meta = {
    id: `${options.dialect.idPrefix}${options.requestId.replace(/^req_/, "")}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const headers = new Headers();
  for (const name of Object.values(RungHeader)) headers.set(name, fabricResponse.headers.get(name) ?? "");
  if (options.stream) return streamEvents(fabricResponse.body, meta, headers, options);
  return wholeAnswer(readJobEvents(fabricResponse.body), meta, headers, options.dialect);
}

async function wholeAnswer(events: AsyncIterable<JobEvent>, meta: Meta, headers: Headers, dialect: Dialect) {
  let text = "";
  for await (const event of events) {
    if (event.type === "delta") text += event.text;
    else if (event.type === "fail") throw new ApiError({ status: 502, message: event.message, code: event.code });
    else {
      const usage = usageOf(event.usage.promptTokens, event.usage.completionTokens);
      return Response.json(dialect.whole(meta, text, event.finishReason, usage, event.trace, event.toolCalls), { headers });
    }
  }
  throw new ApiError({ status: 502, message: "The answer ended before it was complete.", code: "incomplete_answer" });
}

function streamEvents(fabricBody: ReadableStream<Uint8Array>, meta: Meta, headers: Headers, options: RelayOptions) {
  const { dialect, includeUsage } = options;
  const clientGone = new AbortController();
  const events = readJobEvents(fabricBody, clientGone.signal);
  const encoder = new TextEncoder();
  const frame = (data: unknown) => encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  const chunk = (data: object) => frame(includeUsage && dialect.nullUsageBeforeLast ? { ...data, usage: null } : data);
  let ended = false;
  let opened = false;
  // Pull-driven, so a client that leaves stops the reads and cancels the fabric's body.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!opened) {
        opened = true;
        const opening = dialect.opening(meta);
        if (opening) return controller.enqueue(chunk(opening));
      }
      let next: IteratorResult<JobEvent>;
      // Pieces of a tool call arrive with empty text (the call comes whole at the end): nothing to send
      // for them, and a pull that enqueues nothing would not be called again, so read on.
      do {
        try {
          next = await events.next();
        } catch (error) {
          console.error(JSON.stringify({ level: "error", requestId: options.requestId, error: String(error) }));
          next = { done: true, value: undefined };
        }
      } while (!next.done && next.value.type === "delta" && next.value.text === "");
      if (next.done) {
        // Every stream ends the same way, even when the fabric's body broke off: an error event, then [DONE].
        if (!ended)
          controller.enqueue(
            frame(errorBody({ status: 502, message: "The answer ended before it was complete.", code: "incomplete_answer" })),
          );
        controller.enqueue(frame("[DONE]"));
        return controller.close();
      }
      const event = next.value;
      if (event.type === "delta") return controller.enqueue(chunk(dialect.piece(meta, event.text)));
      ended = true;
      if (event.type === "fail") return controller.enqueue(frame(errorBody({ status: 502, message: event.message, code: event.code })));
      const closings = dialect.closing(meta, event.finishReason, event.toolCalls);
      // The stream's last chunk explains the answer, as `rung` does in a whole one: the usage chunk when asked for, else the closing one.
      if (!includeUsage) closings.push({ ...closings.pop()!, rung: event.trace });
      for (const closing of closings) controller.enqueue(chunk(closing));
      const usage = usageOf(event.usage.promptTokens, event.usage.completionTokens);
      if (includeUsage) controller.enqueue(frame(dialect.usage(meta, usage, event.trace)));
    },
    cancel() {
      clientGone.abort();
    },
  });
  headers.set("content-type", "text/event-stream; charset=utf-8");
  headers.set("cache-control", "no-cache");
  return new Response(body, { headers });
}
