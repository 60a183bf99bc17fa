import { type WireError, WireErrorCode } from "../protocol/wire-error.ts";

/** An engine failure that knows whether another node could still succeed. */
export class EngineError extends Error {
  override readonly name = "EngineError";
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function toWireError(error: unknown): WireError {
  if (error instanceof EngineError) {
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  // An unexpected failure on one node says little about the others: let the edge try elsewhere.
  const message = error instanceof Error ? error.message : String(error);
  return { code: WireErrorCode.engineFailure, message, retryable: true };
}
