import { ApiError } from "./middleware/api-error.ts";

/**
 * A request body as text, refused with 413 once it passes `maxBytes`, without
 * holding more than that: the Durable Object's memory is every request's.
 */
export async function readCappedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes || !request.body) {
    // Left unread, not cancelled: see `discardRest`.
    if (declared > maxBytes) throw tooLarge(maxBytes);
    return "";
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await discardRest(reader);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** However much a sender streams past the limit, the edge reads no more than this of it. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * Reads what is left of a refused body without keeping it. Cancelling a body
 * the client is still sending stalled the next request under wrangler dev (the
 * one after a 413 hung until its timeout); one that streams without end is
 * cancelled after `MAX_DISCARDED_BYTES` all the same.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  while (discarded < MAX_DISCARDED_BYTES) {
    const { value, done } = await reader.read();
    if (done) return;
    discarded += value.byteLength;
  }
  await reader.cancel();
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError({ status: 413, message: `The body is larger than ${maxBytes} bytes.`, code: "body_too_large" });
}
