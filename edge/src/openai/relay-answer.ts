import { errorBody } from "@rung/shared/openai";
import { INCOMPLETE_ANSWER } from "../fabric/answer-writer.ts";

const encoder = new TextEncoder();
const INCOMPLETE = encoder.encode(`data: ${JSON.stringify(errorBody({ status: 502, ...INCOMPLETE_ANSWER }))}\n\ndata: [DONE]\n\n`);

/**
 * Passes the Durable Object's answer to the client. The object already wrote
 * the client's bytes (refusals, whole answers and streams alike), and ends
 * every stream it closes with `[DONE]`, so nothing is read here: a stream is
 * pumped by the runtime, at no JavaScript cost per chunk. One thing only the
 * Worker can do: when the object's body breaks off (the object restarted), the
 * stream still ends as every stream does, with an error event and `[DONE]`.
 */
export function relayAnswer(fabricResponse: Response, requestId: string): Response {
  const body = fabricResponse.body;
  if (!body || !fabricResponse.headers.get("content-type")?.startsWith("text/event-stream")) return fabricResponse;
  const { readable, writable } = new IdentityTransformStream();
  // A client that leaves cancels the pipe, which cancels the object's body, and the object stops the node.
  body.pipeTo(writable, { preventClose: true, preventAbort: true }).then(
    () => writable.close(),
    async (error: unknown) => {
      const writer = writable.getWriter();
      try {
        await writer.write(INCOMPLETE);
        await writer.close();
        console.error(JSON.stringify({ level: "error", requestId, error: String(error) }));
      } catch {
        // The client is gone: there is nobody to tell.
      }
    },
  );
  return new Response(readable, fabricResponse);
}
