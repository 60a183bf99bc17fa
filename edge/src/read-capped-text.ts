import { ApiError } from "./middleware/api-error.ts";

/**
 * A request body as text, refused with 413 once it passes `maxBytes`, without
 * holding more than that: the Durable Object's memory is every request's.
 */
export async function readCappedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes || !request.body) {
    // The body is left unread, not cancelled: cancelling it stalled the next request on the
    // connection's runtime (measured under wrangler dev: the request after a 413 hung).
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
      await reader.cancel();
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

function tooLarge(maxBytes: number): ApiError {
  return new ApiError({ status: 413, message: `The body is larger than ${maxBytes} bytes.`, code: "body_too_large" });
}
