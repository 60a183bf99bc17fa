import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface MockOpenAi {
  /** Base URL before `/v1`, e.g. http://127.0.0.1:41234 */
  url: string;
  dispose(): Promise<void>;
}

interface ChatBody {
  model: string;
  stream?: boolean;
  max_tokens?: number;
  stream_options?: { include_usage?: boolean };
}

/** The text the mock answers with `tokens` tokens, so a relay in front of it can be checked. */
export const mockAnswer = (tokens: number) => "tok ".repeat(tokens);

/**
 * An OpenAI-compatible server with no model: `/v1/chat/completions` answers `max_tokens`
 * tokens (8 without) at once, whole or as SSE chunks in one write. It is the upstream that
 * Rung's upstream rung and Portkey relay to, and asked directly, their floor.
 */
export async function startMockOpenAi(): Promise<MockOpenAi> {
  const server = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (data: string) => (raw += data));
    request.on("end", () => {
      if (request.method !== "POST" || !request.url?.endsWith("/chat/completions")) {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as ChatBody;
      const tokens = body.max_tokens ?? 8;
      const head = { id: "chatcmpl-mock", created: Math.floor(Date.now() / 1000), model: body.model };
      const usage = { prompt_tokens: 1, completion_tokens: tokens, total_tokens: tokens + 1 };
      if (!body.stream) {
        const message = { role: "assistant", content: mockAnswer(tokens) };
        const answer = { ...head, object: "chat.completion", choices: [{ index: 0, message, finish_reason: "length" }], usage };
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
        return;
      }
      const event = (fields: object) => `data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", ...fields })}\n\n`;
      let sse = "";
      for (let i = 0; i < tokens; i++) sse += event({ choices: [{ index: 0, delta: { content: mockAnswer(1) }, finish_reason: null }] });
      sse += event({ choices: [{ index: 0, delta: {}, finish_reason: "length" }] });
      if (body.stream_options?.include_usage) sse += event({ choices: [], usage });
      response.writeHead(200, { "content-type": "text/event-stream" }).end(`${sse}data: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dispose: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
