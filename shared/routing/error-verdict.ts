import { type WireError, WireErrorCode } from "../protocol/wire-error.ts";

/**
 * Node errors about the request itself: the client's JSON schema or tools that
 * no grammar can be built from. Every node would say the same, so they are 400s.
 */
export const THE_REQUESTS_FAULT: ReadonlySet<string> = new Set<string>([WireErrorCode.invalidSchema]);

/** Error codes that say nothing about a node's health. */
export const NOT_THE_NODES_FAULT: ReadonlySet<string> = new Set<string>([
  WireErrorCode.busy,
  WireErrorCode.draining,
  WireErrorCode.contextLengthExceeded,
  WireErrorCode.cancelled,
]);

/** Whether an attempt's error counts against its node × model breaker. */
export function blamesNode(error: WireError): boolean {
  return error.retryable && !NOT_THE_NODES_FAULT.has(error.code);
}

/** Where the request stands when one of its attempts fails (the failed attempt already ended). */
export interface ErrorState {
  /** The client already has the answer's headers and maybe part of its text. */
  committed: boolean;
  /** Another attempt of the request (a hedge) still runs. */
  othersRunning: boolean;
  /** A weak answer was kept in case every larger rung fails. */
  hasKept: boolean;
  /** Retries the request used before this failure. */
  retries: number;
  maxRetries: number;
}

/**
 * What a failed attempt means for its request: end a committed stream with a
 * `fail` event; wait for the hedge that still runs; refuse with a status (400
 * when the request itself is at fault, 502 when the node failed for good);
 * answer with the kept weak answer; retry elsewhere; or give up because the
 * retries ran out. Decided by the error's code and `retryable`, never its message.
 */
export type ErrorVerdict = { blamesNode: boolean } & (
  | { kind: "fail-committed" }
  | { kind: "await-hedge" }
  | { kind: "refuse"; status: 400 | 502; message: string }
  | { kind: "answer-kept" }
  | { kind: "retry" }
  | { kind: "retries-exhausted" }
);

export function errorVerdict(error: WireError, state: ErrorState): ErrorVerdict {
  const blames = blamesNode(error);
  if (state.committed) return { blamesNode: blames, kind: "fail-committed" };
  if (state.othersRunning) return { blamesNode: blames, kind: "await-hedge" };
  if (!error.retryable) {
    if (THE_REQUESTS_FAULT.has(error.code)) return { blamesNode: blames, kind: "refuse", status: 400, message: error.message };
    if (state.hasKept) return { blamesNode: blames, kind: "answer-kept" };
    return { blamesNode: blames, kind: "refuse", status: 502, message: `The node failed: ${error.message}` };
  }
  if (state.retries + 1 > state.maxRetries) return { blamesNode: blames, kind: "retries-exhausted" };
  return { blamesNode: blames, kind: "retry" };
}
