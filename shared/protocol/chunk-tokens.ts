import type { Chunk } from "./messages.ts";

/** One token of an answer, as a chunk frame carries it. */
export interface ChunkToken {
  text: string;
  confidence: number | null;
}

/**
 * The chunk frame for these tokens (at least one): a single token as every
 * version sends it, several (since 1.4) with each one's confidence in
 * `confidences` and the lowest known one in `confidence`.
 */
export function chunkFrame(jobId: string, seq: number, tokens: readonly [ChunkToken, ...ChunkToken[]]): Chunk {
  if (tokens.length === 1) return { type: "chunk", jobId, seq, text: tokens[0].text, confidence: tokens[0].confidence };
  const confidences = tokens.map((t) => t.confidence);
  const known = confidences.filter((c): c is number => c !== null);
  return {
    type: "chunk",
    jobId,
    seq,
    text: tokens.map((t) => t.text).join(""),
    confidence: known.length > 0 ? Math.min(...known) : null,
    confidences,
  };
}

/** Each token's confidence in a chunk frame, in order: what escalation judges, however the tokens were framed. */
export function chunkConfidences(chunk: Chunk): readonly (number | null)[] {
  return chunk.confidences ?? [chunk.confidence];
}
