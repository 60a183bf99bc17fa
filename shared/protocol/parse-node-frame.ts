import {
  type Chunk,
  type Done,
  FinishReason,
  ID_PATTERN,
  MAX_CHUNK_TOKENS,
  MAX_TOKEN_ENTROPY,
  type NodeMessage,
  nodeMessageSchema,
} from "./messages.ts";
import { type ParseResult, parseFrame } from "./parse-frame.ts";

/**
 * Decodes a frame a node sent. Chunks come once per token (or per batch of
 * them) in every stream and `done` once per answer, so they are checked by
 * hand first, exactly as `chunkSchema` and `doneSchema` check them:
 * validating them with zod was a tenth of the edge's CPU on the hot path,
 * since zod cannot compile its checks where eval is off (Workers). Any other
 * frame, and any the hand check does not accept outright, goes through the
 * schema, which also words every error.
 */
export function parseNodeFrame(data: string | ArrayBuffer | Uint8Array): ParseResult<NodeMessage> {
  return parseFrame(nodeMessageSchema, data, plainFrame);
}

/** A chunk or `done` exactly as the schema would return it, or undefined to let the schema decide. */
export function plainFrame(value: unknown): Chunk | Done | undefined {
  return plainChunk(value) ?? plainDone(value);
}

/** The chunk `chunkSchema` would return for this value (unknown keys dropped), or undefined to let the schema decide. */
export function plainChunk(value: unknown): Chunk | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { type, jobId, seq, text, confidence, confidences, margins, entropies } = value as Record<string, unknown>;
  if (type !== "chunk" || typeof jobId !== "string" || !ID_PATTERN.test(jobId)) return undefined;
  if (!isCount(seq) || typeof text !== "string" || !isProbability(confidence)) return undefined;
  const chunk: Chunk = { type, jobId, seq, text, confidence };
  if (confidences !== undefined) {
    if (!isList(confidences, isProbability)) return undefined;
    chunk.confidences = confidences;
  }
  // Each signal list, when present, has one value per token: as many as `confidences`, or one.
  const tokens = chunk.confidences?.length ?? 1;
  if (margins !== undefined) {
    if (!isList(margins, isProbability) || margins.length !== tokens) return undefined;
    chunk.margins = margins;
  }
  if (entropies !== undefined) {
    if (!isList(entropies, isEntropy) || entropies.length !== tokens) return undefined;
    chunk.entropies = entropies;
  }
  return chunk;
}

const FINISH_REASONS = new Set<unknown>(Object.values(FinishReason));

/** A `done` without tool calls (those, rarer, go through the schema) as `doneSchema` would return it. */
export function plainDone(value: unknown): Done | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { type, jobId, chunks, finishReason, usage, toolCalls } = value as Record<string, unknown>;
  if (type !== "done" || typeof jobId !== "string" || !ID_PATTERN.test(jobId) || !isCount(chunks)) return undefined;
  if (!FINISH_REASONS.has(finishReason) || toolCalls !== undefined || typeof usage !== "object" || usage === null) return undefined;
  const { promptTokens, completionTokens } = usage as Record<string, unknown>;
  if (!isCount(promptTokens) || !isCount(completionTokens)) return undefined;
  return { type, jobId, chunks, finishReason: finishReason as Done["finishReason"], usage: { promptTokens, completionTokens } };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isProbability(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && value >= 0 && value <= 1);
}

function isEntropy(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && value >= 0 && value <= MAX_TOKEN_ENTROPY);
}

/** A list of 1 to MAX_CHUNK_TOKENS values, each passing `each`. */
function isList(value: unknown, each: (item: unknown) => item is number | null): value is (number | null)[] {
  return Array.isArray(value) && value.length >= 1 && value.length <= MAX_CHUNK_TOKENS && value.every(each);
}
