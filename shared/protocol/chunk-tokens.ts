import type { Chunk } from "./messages.ts";

/** One token of an answer, as a chunk frame carries it. */
export interface ChunkToken {
  text: string;
  confidence: number | null;
  /** Since 1.7, when the job asked for `tokenSignals`: chosen minus runner-up probability, 0..1; null or absent where unknown. */
  margin?: number | null;
  /** Since 1.7, as `margin`: entropy of the next-token distribution, in nats; null or absent where unknown. */
  entropy?: number | null;
}

/** What a chunk frame says about one of its tokens; null where the node did not say. */
export interface TokenSignal {
  confidence: number | null;
  margin: number | null;
  entropy: number | null;
}

/**
 * The chunk frame for these tokens (at least one): a single token as every
 * version sends it, several (since 1.4) with each one's confidence in
 * `confidences` and the lowest known one in `confidence`. Margins and
 * entropies (1.7) go in `margins` and `entropies`, one per token, each list
 * only when some token of the frame has a value for it.
 */
export function chunkFrame(jobId: string, seq: number, tokens: readonly [ChunkToken, ...ChunkToken[]]): Chunk {
  const frame: Chunk =
    tokens.length === 1
      ? { type: "chunk", jobId, seq, text: tokens[0].text, confidence: tokens[0].confidence }
      : batchFrame(jobId, seq, tokens);
  if (tokens.some((t) => t.margin != null)) frame.margins = tokens.map((t) => t.margin ?? null);
  if (tokens.some((t) => t.entropy != null)) frame.entropies = tokens.map((t) => t.entropy ?? null);
  return frame;
}

function batchFrame(jobId: string, seq: number, tokens: readonly ChunkToken[]): Chunk {
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

/**
 * Each token's confidence, margin and entropy in a chunk frame, in order, one
 * entry per token however the tokens were framed; margin and entropy are null
 * where the frame carries no list of them (a node before 1.7, a job that did
 * not ask, an engine that cannot tell).
 */
export function chunkSignals(chunk: Chunk): TokenSignal[] {
  const { margins, entropies } = chunk;
  return chunkConfidences(chunk).map((confidence, i) => ({
    confidence,
    margin: margins?.[i] ?? null,
    entropy: entropies?.[i] ?? null,
  }));
}
