import { z } from "zod";

/**
 * Error codes that cross a program boundary. Retry decisions read `retryable`,
 * never the message, so adding a code never changes routing behaviour by itself.
 */
export const WireErrorCode = {
  badFrame: "bad_frame",
  protocolVersionUnsupported: "protocol_version_unsupported",
  unauthorized: "unauthorized",
  unknownModel: "unknown_model",
  /** Since 1.6: a model's file is not the one the pool's policy names by its SHA-256. */
  modelHashMismatch: "model_hash_mismatch",
  contextLengthExceeded: "context_length_exceeded",
  /** The request's JSON schema or tools cannot be turned into a grammar: the request's fault, not the node's. */
  invalidSchema: "invalid_schema",
  busy: "busy",
  draining: "draining",
  cancelled: "cancelled",
  engineFailure: "engine_failure",
  sequenceGap: "sequence_gap",
  nodeDisconnected: "node_disconnected",
  timeout: "timeout",
  internal: "internal",
} as const;

export const wireErrorSchema = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(4_000),
  retryable: z.boolean(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

export function wireError(code: string, message: string, retryable: boolean): WireError {
  return { code, message, retryable };
}
