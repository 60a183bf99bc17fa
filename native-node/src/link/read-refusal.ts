import type { IncomingMessage } from "node:http";

/** Enough for the edge's JSON error body; a bigger body is not worth waiting for. */
const MAX_BODY_BYTES = 8 * 1024;
const READ_TIMEOUT_MS = 2_000;

/**
 * The reason an HTTP response (instead of a WebSocket upgrade) gives: the
 * `error.message` of an OpenAI-style error body, else the status text.
 */
export async function readRefusal(response: IncomingMessage): Promise<string> {
  const fallback = `${response.statusCode ?? "?"} ${response.statusMessage ?? ""}`.trim();
  const body = await readBody(response);
  try {
    const json: unknown = JSON.parse(body);
    const message = (json as { error?: { message?: unknown } } | null)?.error?.message;
    return typeof message === "string" && message ? message : fallback;
  } catch {
    return body.trim().slice(0, 200) || fallback;
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(done, READ_TIMEOUT_MS);
    response.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    response.on("end", done);
    response.on("error", done);
  });
}
