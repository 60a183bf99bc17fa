import {
  FinishReason,
  jobInputSchema,
  responseFormatSchema,
  samplingSchema,
  toolCallSchema,
  toolChoiceSchema,
  toolSchema,
  usageSchema,
} from "@rung/shared/protocol";
import { z } from "zod";

/**
 * The request the Worker hands its pool's Durable Object, already validated
 * and translated from OpenAI's shape, so the fabric never sees HTTP details.
 */
export const fabricJobSchema = z.object({
  requestId: z.string().min(1),
  model: z.string().min(1),
  input: jobInputSchema,
  sampling: samplingSchema,
  promptTokens: z.number().int().nonnegative(),
  /**
   * Streams commit at the first token: after that the client has bytes and the
   * answer cannot move to another node. Whole answers commit only when done, so
   * a node that fails halfway is replaced without the client noticing.
   */
  stream: z.boolean(),
  /** Capabilities the answer needs; only models whose nodes announced them are tried. */
  responseFormat: responseFormatSchema.optional(),
  tools: z.array(toolSchema).min(1).optional(),
  toolChoice: toolChoiceSchema.optional(),
  /** The client's `rung` field: its own confidence bar, highest rung, or no climbing. */
  override: z
    .object({
      minConfidence: z.number().min(0).max(1).optional(),
      maxRung: z.string().min(1).max(128).optional(),
      escalate: z.boolean().optional(),
    })
    .optional(),
});
export type FabricJob = z.infer<typeof fabricJobSchema>;

export const attemptSchema = z.object({
  model: z.string(),
  node: z.string(),
  outcome: z.string(),
  reason: z.string().optional(),
  ms: z.number(),
  firstTokenMs: z.number().optional(),
  confidence: z.object({ mean: z.number(), min: z.number() }).optional(),
});

export const traceSchema = z.object({
  model: z.string(),
  node: z.string(),
  escalations: z.number().int().nonnegative(),
  profile: z.string().optional(),
  preRouted: z.array(z.string()).optional(),
  attempts: z.array(attemptSchema),
});

/** Lines of the NDJSON body the Durable Object streams back after it commits. */
export const jobEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("delta"), text: z.string() }),
  z.object({
    type: z.literal("end"),
    finishReason: z.enum([FinishReason.stop, FinishReason.length, FinishReason.toolCalls]),
    usage: usageSchema,
    trace: traceSchema,
    toolCalls: z.array(toolCallSchema).optional(),
  }),
  /** The answer broke after the client had part of it: the stream ends with an error event. */
  z.object({ type: z.literal("fail"), code: z.string(), message: z.string() }),
]);
export type JobEvent = z.infer<typeof jobEventSchema>;

/** Headers of the Durable Object's committed response; the Worker copies them to the client. */
export const RungHeader = {
  model: "x-rung-model",
  node: "x-rung-node",
  attempts: "x-rung-attempts",
  escalations: "x-rung-escalations",
} as const;
