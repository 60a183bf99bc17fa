import { z } from "zod";

/**
 * The OpenAI request bodies Rung accepts. Objects are loose: OpenAI SDKs send
 * fields we do not use (`user`, `metadata`, `store`, …) and a gateway that
 * rejected them would break working clients. Fields we cannot honour exactly
 * are refused with a 400 naming the field instead of being silently ignored.
 */

const textPartSchema = z.looseObject({ type: z.literal("text"), text: z.string() });

const messageContentSchema = z.union([z.string(), z.array(textPartSchema), z.null()]);

export const chatMessageInputSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: messageContentSchema.optional(),
  name: z.string().optional(),
});

// One schema with a refinement rather than a union, so the client reads why, not zod's "Invalid input".
const stopSchema = z
  .union([z.string(), z.array(z.string())])
  .refine((stop) => (typeof stop === "string" ? stop.length > 0 : stop.length <= 4 && stop.every(Boolean)), "stop must be a non-empty string or up to 4 non-empty strings")
  .nullish();

const samplingFields = {
  model: z.string().min(1, "model is required"),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, "only n = 1 is supported").nullish(),
  stop: stopSchema,
  seed: z.number().int().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  user: z.string().nullish(),
};

/**
 * Capabilities that change what a correct answer looks like. Until nodes honour
 * them, a request that needs one is refused: plain text where a client expects
 * `tool_calls` or JSON would be a silent wrong answer. Their neutral values pass.
 */
const notYet = (what: string) => `${what} is not supported yet`;
const unsupportedChatFields = {
  tools: z.array(z.unknown()).max(0, notYet("tools")).nullish(),
  tool_choice: z.literal("none", notYet("tool_choice")).nullish(),
  response_format: z.looseObject({ type: z.literal("text", notYet("response_format other than text")) }).nullish(),
  logprobs: z.literal(false, notYet("logprobs")).nullish(),
  top_logprobs: z.literal(0, notYet("top_logprobs")).nullish(),
};

export const chatCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  ...unsupportedChatFields,
  messages: z.array(chatMessageInputSchema).min(1, "messages must not be empty"),
  max_completion_tokens: z.number().int().positive().nullish(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const completionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z
    .union([z.string(), z.array(z.string())])
    .refine((prompt) => typeof prompt === "string" || prompt.length === 1, "only one prompt per request is supported"),
  echo: z.literal(false, "echo is not supported").nullish(),
  logprobs: z.literal(0, notYet("logprobs")).nullish(),
  suffix: z.null("suffix is not supported").optional(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

/** Flatten OpenAI's content (string or text parts) to the plain text nodes receive. */
export function contentText(content: z.infer<typeof messageContentSchema> | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}
