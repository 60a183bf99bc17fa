import { z } from "zod";
import type { FabricJob } from "../fabric/fabric-job.ts";
import { ApiError } from "../middleware/api-error.ts";

/**
 * What a client may ask of the ladder in a request body's `rung` field.
 * OpenAI and other servers ignore the field, so one request body works everywhere.
 */
const rungOverrideSchema = z
  .object({
    /** Climb when the answer's mean token confidence is below this. */
    min_confidence: z.number().min(0).max(1).optional(),
    /** The largest model this request may climb to. */
    max_rung: z.string().min(1).max(128).optional(),
    /** false: the cheapest answer: on the profile's start rung, without pre-routing or climbing. */
    escalate: z.boolean().optional(),
    /** true: each attempt in the trace carries its tokens' signals (for calibrating a judge; nodes then send margins and entropies). */
    trace_tokens: z.boolean().optional(),
  })
  .strict();

export function rungOverrideOf(body: Record<string, unknown>): FabricJob["override"] {
  if (body.rung === undefined || body.rung === null) return undefined;
  const parsed = rungOverrideSchema.safeParse(body.rung);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ["rung", ...issue.path.map(String)].join(".");
    throw new ApiError({ status: 400, message: `Invalid '${path}': ${issue.message}`, param: path, code: "invalid_value" });
  }
  const { min_confidence, max_rung, escalate, trace_tokens } = parsed.data;
  return {
    ...(min_confidence !== undefined && { minConfidence: min_confidence }),
    ...(max_rung !== undefined && { maxRung: max_rung }),
    ...(escalate !== undefined && { escalate }),
    ...(trace_tokens === true && { traceTokens: true }),
  };
}
