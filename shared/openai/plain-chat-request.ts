import type { ChatCompletionRequest } from "./requests.ts";

/**
 * The common chat request, checked by hand exactly as `chatCompletionRequestSchema`
 * checks it: text messages and plain sampling fields. Every request passes the
 * schema in the Worker, where zod cannot compile its checks (no eval), and that
 * was the largest single cost of a request. Anything less plain (tools, response
 * formats, content parts, stop lists, tool turns) returns undefined and goes
 * through the schema, which also words every error. The request is returned as
 * parsed: the schema's objects are loose and transform nothing, so it would
 * return an equal copy.
 */
export function plainChatRequest(body: unknown): ChatCompletionRequest | undefined {
  if (!isRecord(body) || typeof body.model !== "string" || body.model.length === 0) return undefined;
  if (!Array.isArray(body.messages) || body.messages.length === 0 || !body.messages.every(isPlainMessage)) return undefined;
  for (const [field, check] of FIELD_CHECKS) {
    const value = body[field];
    if (value !== undefined && value !== null && !check(value)) return undefined;
  }
  // Left to the schema whatever their value: they need its refinements or unions.
  if (body.tool_choice !== undefined || nonNull(body.tools) || nonNull(body.response_format)) return undefined;
  return body as ChatCompletionRequest;
}

const MESSAGE_ROLES = new Set(["system", "developer", "user", "assistant"]);

/** A text turn that is not a tool's and called no function. */
function isPlainMessage(message: unknown): boolean {
  if (!isRecord(message) || typeof message.role !== "string" || !MESSAGE_ROLES.has(message.role)) return false;
  if (message.content !== undefined && message.content !== null && typeof message.content !== "string") return false;
  if (message.name !== undefined && typeof message.name !== "string") return false;
  return !nonNull(message.tool_calls) && !nonNull(message.tool_call_id);
}

const isPositiveInteger = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
const isBoolean = (v: unknown) => typeof v === "boolean";

/** The nullish fields the schema checks, and what a non-null value must be. */
const FIELD_CHECKS: readonly (readonly [string, (value: unknown) => boolean])[] = [
  ["stream", isBoolean],
  ["stream_options", (v) => isRecord(v) && (v.include_usage === undefined || isBoolean(v.include_usage))],
  ["temperature", (v) => typeof v === "number" && v >= 0 && v <= 2],
  ["top_p", (v) => typeof v === "number" && v > 0 && v <= 1],
  ["n", (v) => v === 1],
  ["stop", (v) => typeof v === "string" && v.length > 0],
  ["seed", (v) => Number.isSafeInteger(v)],
  ["max_tokens", isPositiveInteger],
  ["max_completion_tokens", isPositiveInteger],
  ["user", (v) => typeof v === "string"],
  ["logprobs", (v) => v === false],
  ["top_logprobs", (v) => v === 0],
  ["parallel_tool_calls", isBoolean],
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonNull(value: unknown): boolean {
  return value !== undefined && value !== null;
}
