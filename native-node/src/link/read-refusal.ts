import type { IncomingMessage } from "node:http";
import { readCappedBody } from "./read-capped-body.ts";

/** Enough for the edge's JSON error body; a bigger body is not worth waiting for. */
const MAX_BODY_BYTES = 8 * 1024;
const READ_TIMEOUT_MS = 2_000;

/**
 * The reason an HTTP response (instead of a WebSocket upgrade) gives: the
 * `error.message` of an OpenAI-style error body, else the status text.
 */
export async function readRefusal(response: IncomingMessage): Promise<string> {
  const fallback = `${response.statusCode ?? "?"} ${response.statusMessage ?? ""}`.trim();
  const { text } = await readCappedBody(response, MAX_BODY_BYTES, READ_TIMEOUT_MS);
  return errorMessageIn(text, fallback);
}

/** The `error.message` of an OpenAI-style error body, else the start of the body, else the fallback. */
export function errorMessageIn(body: string, fallback: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } } | null)?.error?.message;
    if (typeof message === "string" && message) return message;
  } catch {
    // Not JSON: a proxy's plain-text or HTML page says something too.
  }
  return body.trim().slice(0, 200) || fallback;
}
