import { z } from "zod";
import type { ResponseFormat, Tool, ToolChoice, WireChatMessage } from "../protocol/messages.ts";

/**
 * The OpenAI request bodies Rung accepts. Objects are loose: OpenAI SDKs send
 * fields we do not use (`user`, `metadata`, `store`, …) and a gateway that
 * rejected them would break working clients. Fields we cannot honour exactly
 * are refused with a 400 naming the field instead of being silently ignored.
 */

const textPartSchema = z.looseObject({ type: z.literal("text"), text: z.string() });

const messageContentSchema = z.union([z.string(), z.array(textPartSchema), z.null()]);

const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, underscores or dashes");

const toolCallInputSchema = z.looseObject({
  id: z.string().min(1).max(128),
  type: z.literal("function", 'only tool calls of type "function" are supported'),
  function: z.looseObject({ name: z.string().min(1).max(128), arguments: z.string() }),
});

export const chatMessageInputSchema = z
  .looseObject({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: messageContentSchema.optional(),
    name: z.string().optional(),
    /** An assistant turn that called functions; its content may be null. */
    tool_calls: z.array(toolCallInputSchema).max(128).nullish(),
    /** A tool turn: the call it answers. */
    tool_call_id: z.string().min(1).max(128).nullish(),
  })
  .refine((m) => m.role !== "tool" || m.tool_call_id, { message: "a tool message needs tool_call_id", path: ["tool_call_id"] });

// One schema with a refinement rather than a union, so the client reads why, not zod's "Invalid input".
const stopSchema = z
  .union([z.string(), z.array(z.string())])
  .refine(
    (stop) => (typeof stop === "string" ? stop.length > 0 : stop.length <= 4 && stop.every(Boolean)),
    "stop must be a non-empty string or up to 4 non-empty strings",
  )
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

/** A JSON schema as the client sent it: nodes compile it to a grammar, the edge checks answers against it. */
const jsonSchemaObject = z.record(z.string(), z.unknown(), "must be a JSON schema object");

const responseFormatInputSchema = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("text") }),
    z.looseObject({ type: z.literal("json_object") }),
    z.looseObject({
      type: z.literal("json_schema"),
      json_schema: z.looseObject({
        name: functionName,
        description: z.string().optional(),
        schema: jsonSchemaObject,
        // Nodes always keep to the schema (a grammar), so strict: false is honoured by being stricter.
        strict: z.boolean().nullish(),
      }),
    }),
  ],
  { error: "response_format.type must be text, json_object or json_schema" },
);

const toolInputSchema = z.looseObject({
  type: z.literal("function", 'only tools of type "function" are supported'),
  function: z.looseObject({
    name: functionName,
    description: z.string().optional(),
    parameters: jsonSchemaObject.optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceInputSchema = z.union(
  [z.enum(["none", "auto", "required"]), z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) })],
  { error: 'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}' },
);

/**
 * Per-token log probabilities are not returned (nodes report one confidence
 * per piece, for routing); asking for them is refused rather than ignored.
 */
const notYet = (what: string) => `${what} is not supported yet`;
const unsupportedChatFields = {
  logprobs: z.literal(false, notYet("logprobs")).nullish(),
  top_logprobs: z.literal(0, notYet("top_logprobs")).nullish(),
};

export const chatCompletionRequestSchema = z
  .looseObject({
    ...samplingFields,
    ...unsupportedChatFields,
    messages: z.array(chatMessageInputSchema).min(1, "messages must not be empty"),
    max_completion_tokens: z.number().int().positive().nullish(),
    response_format: responseFormatInputSchema.nullish(),
    tools: z.array(toolInputSchema).max(128, "at most 128 tools").nullish(),
    tool_choice: toolChoiceInputSchema.nullish(),
    // Accepted either way: a node returns the calls its model makes, one per answer.
    parallel_tool_calls: z.boolean().nullish(),
  })
  .superRefine((body, ctx) => {
    const choice = body.tool_choice;
    const names = new Set((body.tools ?? []).map((t) => t.function.name));
    if ((choice === "required" || typeof choice === "object") && names.size === 0) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice requires tools" });
    } else if (typeof choice === "object" && choice && !names.has(choice.function.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["tool_choice"],
        message: `tool_choice names ${JSON.stringify(choice.function.name)}, which is not among the tools`,
      });
    }
    if (names.size < (body.tools?.length ?? 0))
      ctx.addIssue({ code: "custom", path: ["tools"], message: "tools name the same function twice" });
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

/** OpenAI's messages in the wire's form: text content, calls and call ids carried over. */
export function toWireMessages(messages: readonly z.infer<typeof chatMessageInputSchema>[]): WireChatMessage[] {
  return messages.map((m) => ({
    role: m.role,
    content: contentText(m.content),
    ...(m.tool_calls?.length && {
      toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
    }),
    ...(m.tool_call_id && { toolCallId: m.tool_call_id }),
  }));
}

/** What the answer must look like, in the job's terms. `tool_choice: "none"` or no tools sends no tools. */
export interface JobCapabilities {
  responseFormat?: ResponseFormat;
  tools?: Tool[];
  toolChoice?: ToolChoice;
}

export function jobCapabilitiesOf(body: ChatCompletionRequest): JobCapabilities {
  const job: JobCapabilities = {};
  const format = body.response_format;
  if (format?.type === "json_object") job.responseFormat = { type: "json_object" };
  if (format?.type === "json_schema")
    job.responseFormat = { type: "json_schema", name: format.json_schema.name, schema: format.json_schema.schema };
  const choice = body.tool_choice ?? "auto";
  if (body.tools?.length && choice !== "none") {
    job.tools = body.tools.map(({ function: f }) => ({
      name: f.name,
      ...(f.description !== undefined && { description: f.description }),
      ...(f.parameters !== undefined && { parameters: f.parameters }),
    }));
    job.toolChoice = typeof choice === "string" ? choice : { name: choice.function.name };
  }
  return job;
}

/** Flatten OpenAI's content (string or text parts) to the plain text nodes receive. */
export function contentText(content: z.infer<typeof messageContentSchema> | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text).join("");
}
