import type { z } from "zod";
import { PROTOCOL_VERSION } from "./messages.ts";
import { type WireError, WireErrorCode, wireError } from "./wire-error.ts";

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** Largest frame either side accepts; a bigger one is a bad frame, not an allocation. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Decode one WebSocket frame against a message schema. Never throws: a frame
 * from the other side is untrusted input and must not take the receiver down.
 * `quick`, for the frames that come by the thousand, accepts a value outright
 * when a plain check shows it is exactly what the schema would return, and
 * leaves everything else (and every error's wording) to the schema.
 */
export function parseFrame<S extends z.ZodType>(
  schema: S,
  data: string | ArrayBuffer | Uint8Array,
  quick?: (json: unknown) => z.infer<S> | undefined,
): ParseResult<z.infer<S>> {
  const bytes = typeof data === "string" ? utf8Length(data) : data.byteLength;
  if (bytes > MAX_FRAME_BYTES) return bad(`frame of ${bytes} bytes exceeds the limit of ${MAX_FRAME_BYTES}`);
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad("frame is not JSON");
  }
  const value = quick?.(json);
  if (value !== undefined) return { ok: true, value };
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return bad(`invalid frame${where}: ${issue?.message ?? "unknown issue"}`);
  }
  return { ok: true, value: parsed.data };
}

/** UTF-8 size of a string without encoding it: a frame is measured before anything is allocated for it. */
function utf8Length(text: string): number {
  // Every UTF-16 unit is 1 to 3 UTF-8 bytes (a surrogate pair, two units, is 4): decide cheaply when we can.
  if (text.length > MAX_FRAME_BYTES) return text.length;
  if (text.length * 3 <= MAX_FRAME_BYTES) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // Each half of a surrogate pair counts 2, so the pair counts the 4 bytes it encodes to.
    const surrogate = unit >= 0xd800 && unit <= 0xdfff;
    bytes += unit < 0x80 ? 1 : unit < 0x800 || surrogate ? 2 : 3;
  }
  return bytes;
}

function bad(message: string): { ok: false; error: WireError } {
  return { ok: false, error: wireError(WireErrorCode.badFrame, message, false) };
}

/** A peer speaks our protocol when its major version equals ours. */
export function isCompatibleProtocol(version: string): boolean {
  return majorOf(version) === majorOf(PROTOCOL_VERSION);
}

/** Whether a peer's protocol version (e.g. the edge's in `welcome`) is at least this minor version of our major. */
export function hasMinorVersion(version: string, minor: number): boolean {
  return isCompatibleProtocol(version) && Number(version.split(".")[1] ?? "0") >= minor;
}

/** What a node of another major version is told, so its owner knows what to upgrade. */
export function protocolMismatchMessage(nodeVersion: string): string {
  return `This edge speaks protocol ${PROTOCOL_VERSION}; the node speaks ${nodeVersion}. Upgrade the node (or the edge) so their major versions match.`;
}

function majorOf(version: string): string {
  return version.split(".")[0] ?? "";
}
