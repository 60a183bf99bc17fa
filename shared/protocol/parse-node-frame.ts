import { type Chunk, ID_PATTERN, MAX_CHUNK_TOKENS, type NodeMessage, nodeMessageSchema } from "./messages.ts";
import { type ParseResult, parseFrame } from "./parse-frame.ts";

/**
 * Decodes a frame a node sent. Chunks come once per token (or per batch of
 * them) in every stream, so they are checked by hand first, exactly as
 * `chunkSchema` checks them: validating them with zod was a tenth of the
 * edge's CPU on the hot path, since zod cannot compile its checks where
 * eval is off (Workers). Any other frame, and any chunk the check does not
 * accept outright, goes through the schema.
 */
export function parseNodeFrame(data: string | ArrayBuffer | Uint8Array): ParseResult<NodeMessage> {
  return parseFrame(nodeMessageSchema, data, plainChunk);
}

/** The chunk `chunkSchema` would return for this value (unknown keys dropped), or undefined to let the schema decide. */
export function plainChunk(value: unknown): Chunk | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { type, jobId, seq, text, confidence, confidences } = value as Record<string, unknown>;
  if (type !== "chunk" || typeof jobId !== "string" || !ID_PATTERN.test(jobId)) return undefined;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0 || typeof text !== "string" || !isProbability(confidence)) {
    return undefined;
  }
  if (confidences === undefined) return { type, jobId, seq, text, confidence };
  if (!Array.isArray(confidences) || confidences.length < 1 || confidences.length > MAX_CHUNK_TOKENS) return undefined;
  if (!confidences.every(isProbability)) return undefined;
  return { type, jobId, seq, text, confidence, confidences };
}

function isProbability(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && value >= 0 && value <= 1);
}
