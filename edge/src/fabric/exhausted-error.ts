import type { Attempt } from "@rung/shared/openai";
import { type WireError, WireErrorCode } from "@rung/shared/protocol";
import { ApiError } from "../middleware/api-error.ts";

/** No rung could answer: the status says what went wrong most usefully to the client. */
export function exhaustedError(trace: readonly Attempt[], errors: readonly WireError[]): ApiError {
  const tried = trace.map((a) => `${a.model}@${a.node}: ${a.outcome}`).join("; ");
  const detail = tried ? ` Attempts: ${tried}.` : "";
  const timeout = errors.find((e) => e.code === WireErrorCode.timeout);
  if (timeout) {
    return new ApiError({ status: 504, message: `The request timed out: ${timeout.message}.${detail}`, code: "timeout" });
  }
  // Only when every node said the prompt is too long is it the client's to fix.
  if (errors.length > 0 && errors.every((e) => e.code === WireErrorCode.contextLengthExceeded)) {
    return new ApiError({ status: 400, message: `${errors[0]!.message}.${detail}`, code: WireErrorCode.contextLengthExceeded });
  }
  return new ApiError({
    status: 503,
    message: `No node could serve the request.${detail || " Every candidate node left, refused it or has its circuit breaker open."}`,
    code: "no_capable_node",
  });
}

/**
 * The model's nodes left and none came back while the request waited: 503 with
 * Retry-After, which the OpenAI SDKs retry (a 404 they would take as final).
 */
export function unavailableError(message: string): ApiError {
  return new ApiError({ status: 503, message: `${message} Retry shortly.`, code: "model_unavailable", headers: { "retry-after": "5" } });
}

/** No free slot came in time (or the queue is full): 429, and the client may retry shortly. */
export function busyError(message: string): ApiError {
  return new ApiError({ status: 429, message: `${message} Retry shortly.`, code: "nodes_busy", headers: { "retry-after": "1" } });
}

/**
 * A key that demands verified answers got one from a public node, and no second
 * node gave the same in time: nothing unverified is sent. 503, so SDKs retry.
 */
export function unverifiedError(): ApiError {
  return new ApiError({
    status: 503,
    message:
      "A public node answered, but no second node gave the same answer in time, and this key demands verified answers. Retry shortly.",
    code: "unverified_answer",
    headers: { "retry-after": "5" },
  });
}
