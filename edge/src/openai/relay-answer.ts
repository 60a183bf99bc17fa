import { errorBody } from "@rung/shared/openai";
import { INCOMPLETE_ANSWER } from "../fabric/answer-writer.ts";

const encoder = new TextEncoder();
const DONE = encoder.encode("data: [DONE]\n\n");
const INCOMPLETE = encoder.encode(`data: ${JSON.stringify(errorBody({ status: 502, ...INCOMPLETE_ANSWER }))}\n\n`);

/**
 * Passes the Durable Object's answer to the client. The object already wrote
 * the client's bytes (refusals, whole answers and streams alike), so nothing is
 * parsed here. One thing only the Worker can do: when the object's body breaks
 * off mid-stream (the object restarted), the stream still ends as every stream
 * does, with an error event and `[DONE]`.
 */
export function relayAnswer(fabricResponse: Response, requestId: string): Response {
  const body = fabricResponse.body;
  if (!body || !fabricResponse.headers.get("content-type")?.startsWith("text/event-stream")) return fabricResponse;
  const reader = body.getReader();
  // The last bytes seen, enough to tell whether the stream ended with [DONE].
  let tail: Uint8Array = new Uint8Array(0);
  // Pull-driven, so a client that leaves cancels the object's body and the object stops the node.
  const relayed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (!done) {
          tail = lastBytes(tail, value, DONE.length);
          return controller.enqueue(value);
        }
      } catch (error) {
        console.error(JSON.stringify({ level: "error", requestId, error: String(error) }));
      }
      if (!equalBytes(tail, DONE)) {
        controller.enqueue(INCOMPLETE);
        controller.enqueue(DONE);
      }
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(relayed, fabricResponse);
}

function lastBytes(before: Uint8Array, next: Uint8Array, length: number): Uint8Array {
  if (next.length >= length) return next.subarray(next.length - length);
  const joined = new Uint8Array(before.length + next.length);
  joined.set(before);
  joined.set(next, before.length);
  return joined.subarray(Math.max(0, joined.length - length));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
