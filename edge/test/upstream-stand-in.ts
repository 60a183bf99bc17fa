import { ReadableStream } from "node:stream/web";
import { type Request, Response } from "miniflare";

/**
 * OpenAI-compatible upstreams for the workerd tests, answering the edge's
 * outbound calls from Node (miniflare's outboundService). Each
 * `<behaviour>.upstream.test` host answers in one way the dispatcher must
 * handle; `echo` answers with what it received, so tests can read the request.
 */
export async function upstreamStandIn(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const behaviour = url.hostname.replace(/\.upstream\.test$/, "");
  const body: unknown = await request.json();
  const event = (data: object | string) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
  const delta = (content: string, logprobs?: number[]) => ({
    choices: [
      {
        index: 0,
        delta: { content },
        logprobs: logprobs ? { content: logprobs.map((logprob) => ({ token: "t", logprob })) } : null,
        finish_reason: null,
      },
    ],
  });
  switch (behaviour) {
    case "stream":
      if (url.pathname.endsWith("/chat/completions")) {
        return sse([
          ": a comment line, ignored\n\n",
          event({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
          event(delta("Hel", [Math.log(0.5)])),
          event(delta("lo", [Math.log(0.9), Math.log(0.4)])),
          event({ choices: [{ index: 0, delta: {}, finish_reason: "length" }] }),
          event({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } }),
          event("[DONE]"),
        ]);
      }
      // A legacy completion stream without logprobs or usage.
      return sse([
        event({ choices: [{ index: 0, text: "once", finish_reason: null }] }),
        event({ choices: [{ index: 0, text: " upon", finish_reason: "stop" }] }),
        event("[DONE]"),
      ]);
    case "tools":
      return sse([
        event({
          choices: [
            {
              index: 0,
              delta: {
                role: "assistant",
                tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }],
              },
            },
          ],
        }),
        event({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }] }),
        event({
          choices: [
            {
              index: 0,
              delta: { tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] },
            },
          ],
        }),
        event({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] } }] }),
        event({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
        event("[DONE]"),
      ]);
    case "echo":
      return sse([
        event(delta(JSON.stringify({ path: url.pathname, authorization: request.headers.get("authorization"), body }))),
        event("[DONE]"),
      ]);
    case "error-event":
      return sse([event(delta("partial")), event({ error: { message: "The model crashed.", type: "server_error" } }), event("[DONE]")]);
    case "truncated":
      return sse([event(delta("half an answer"))]);
    case "endless-line": {
      const piece = new TextEncoder().encode("x".repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ > 200) return controller.close();
          controller.enqueue(piece);
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "ticking": {
      // A token every 20 ms for 2 s, then the end without [DONE]: a caller that stops listening sees none of it.
      // (Miniflare does not pass a hang-up on to this stream, so the caller's side is what tests can watch.)
      let ticks = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (ticks > 0) await new Promise((resolve) => setTimeout(resolve, 20));
          if (ticks++ > 100) return controller.close();
          controller.enqueue(new TextEncoder().encode(event(delta("tick"))));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "status-500":
      return new Response("upstream exploded", { status: 500 });
    case "status-429":
      return Response.json(
        { error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } },
        { status: 429 },
      );
    case "status-401":
      return Response.json(
        { error: { message: "Incorrect API key provided: sk-wrong.", type: "invalid_request_error", code: "invalid_api_key" } },
        { status: 401 },
      );
  }
  return new Response("no such upstream stand-in", { status: 404 });
}

function sse(events: string[]): Response {
  return new Response(events.join(""), { headers: { "content-type": "text/event-stream" } });
}
