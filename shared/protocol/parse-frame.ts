import type { z } from "zod";
import { PROTOCOL_VERSION } from "./messages.ts";
import { WireErrorCode, wireError, type WireError } from "./wire-error.ts";

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** Largest frame either side accepts; a bigger one is a bad frame, not an allocation. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Decode one WebSocket frame against a message schema. Never throws: a frame
 * from the other side is untrusted input and must not take the receiver down.
 */
export function parseFrame<S extends z.ZodType>(
  schema: S,
  data: string | ArrayBuffer | Uint8Array,
): ParseResult<z.infer<S>> {
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  if (text.length > MAX_FRAME_BYTES) {
    return bad(`frame of ${text.length} characters exceeds ${MAX_FRAME_BYTES}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad("frame is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return bad(`invalid frame${where}: ${issue?.message ?? "unknown issue"}`);
  }
  return { ok: true, value: parsed.data };
}

function bad(message: string): { ok: false; error: WireError } {
  return { ok: false, error: wireError(WireErrorCode.badFrame, message, false) };
}

/** A peer speaks our protocol when its major version equals ours. */
export function isCompatibleProtocol(version: string): boolean {
  return majorOf(version) === majorOf(PROTOCOL_VERSION);
}

function majorOf(version: string): string {
  return version.split(".")[0] ?? "";
}
