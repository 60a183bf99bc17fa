import type { IncomingMessage } from "node:http";

export interface CappedBody {
  /** The body's first `maxBytes` bytes, as UTF-8. */
  text: string;
  /** False when the body was longer than `maxBytes`, broke off, or outlasted the timeout. */
  complete: boolean;
}

/**
 * An HTTP message's body, holding at most `maxBytes` of it: bodies come from
 * the other side of a trust boundary, and neither a large one nor a slow one
 * may cost more than the caller allows.
 */
export function readCappedBody(message: IncomingMessage, maxBytes: number, timeoutMs = Number.POSITIVE_INFINITY): Promise<CappedBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean) => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("utf8").slice(0, maxBytes), complete: complete && size <= maxBytes });
    };
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(false), timeoutMs) : undefined;
    message.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    message.on("end", () => finish(true));
    message.on("error", () => finish(false));
  });
}
