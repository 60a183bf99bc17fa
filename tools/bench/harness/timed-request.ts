import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

/** Where a chat completion goes: a base URL (before `/v1`) and the headers this server needs. */
export interface ChatTarget {
  url: string;
  headers?: Record<string, string>;
}

export interface Timing {
  /** Request sent to the answer's last byte, ms. */
  totalMs: number;
  /** Request sent to the first SSE event with content, ms; undefined only for a whole answer. */
  firstTokenMs: number | undefined;
}

// One keep-alive pool for every target, so no figure carries a TCP handshake another does not.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
/** The echo engine repeats the prompt, so every source answers the same text: this once per token. */
const PROMPT = "tok ";
// Past this a request counts as failed: a hung server must not hang the suite.
const TIMEOUT_MS = 60_000;
// Content in a chunk event; the role-only event some servers send first does not count as a token.
const CONTENT = /"content":"[^"]/;

/**
 * One chat completion over node:http (leaner than fetch, so less of the client in every
 * figure), timed to the last byte and, when streamed, to the first content. The answer is
 * checked after the clock stops: a server that answers fast and wrong must not look good.
 */
export function timedChat(target: ChatTarget, body: { model: string; stream: boolean; max_tokens: number }): Promise<Timing> {
  const payload = JSON.stringify({ ...body, messages: [{ role: "user", content: PROMPT }] });
  const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)), ...target.headers };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstTokenMs: number | undefined;
    let text = "";
    const call = request(`${target.url}/v1/chat/completions`, { method: "POST", headers, agent }, (response) => {
      response.setEncoding("utf8");
      response.on("data", (data: string) => {
        if (body.stream && firstTokenMs === undefined && CONTENT.test(data)) firstTokenMs = performance.now() - started;
        text += data;
      });
      response.on("end", () => {
        const totalMs = performance.now() - started;
        const problem = answerProblem(response.statusCode, text, body);
        if (problem) reject(new Error(`${target.url}: ${problem}: ${text.slice(0, 300)}`));
        // Content split between two reads is seen in a later one, at the latest by the end.
        else resolve({ totalMs, firstTokenMs: body.stream ? (firstTokenMs ?? totalMs) : undefined });
      });
      response.on("error", reject);
    });
    call.setTimeout(TIMEOUT_MS, () => call.destroy(new Error(`${target.url}: no answer within ${TIMEOUT_MS} ms`)));
    call.on("error", reject);
    call.end(payload);
  });
}

/** Every token there (the prompt once per token, whole or split over events), and a stream's end. */
function answerProblem(status: number | undefined, text: string, body: { stream: boolean; max_tokens: number }): string | undefined {
  if (status !== 200) return `status ${status}`;
  if (body.stream && !text.includes("data: [DONE]")) return "a stream without [DONE]";
  const tokens = text.split(PROMPT).length - 1;
  return tokens === body.max_tokens ? undefined : `${tokens} tokens, not ${body.max_tokens}`;
}
