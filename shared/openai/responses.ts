import type { FinishReason, ToolCall } from "../protocol/messages.ts";

/**
 * Builders for the bodies Rung emits. They follow OpenAI's published schemas
 * (CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
 * CreateCompletionResponse, ListModelsResponse); a test validates them against
 * OpenAI's own OpenAPI description. `rung` is our extension: OpenAI clients ignore it.
 */

export type FinishReasonValue = (typeof FinishReason)[keyof typeof FinishReason];

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Attempt {
  model: string;
  node: string;
  /** The node's trust tier: `private` (an owner's agent, an operator's upstream) or `public` (a donated tab). */
  tier?: "private" | "public";
  /**
   * How this attempt ended: `answered`; `escalated` (its answer looked weak);
   * `hedge_lost` (a hedge on another node answered first); or the error code
   * that moved the request on.
   */
  outcome: string;
  /** Why, in words, when the outcome alone does not say (e.g. `mean confidence 0.21 < 0.5`). */
  reason?: string;
  /** Started beside a slow attempt of the same model (a hedge), not instead of one. */
  hedge?: true;
  /** From dispatch to the attempt's end. */
  ms: number;
  /** From dispatch to its first token, when one came. */
  firstTokenMs?: number;
  /**
   * Mean and lowest per-token confidence of what the edge judged, and the
   * judge's score (`judge` names it, e.g. `mean confidence`) against its `bar`.
   */
  confidence?: { mean: number; min: number; judge?: string; score?: number; bar?: number };
  /** Each token's probability, and margin and entropy where the node sent them: only when the request asked (`rung.trace_tokens`). */
  tokens?: { confidences: (number | null)[]; margins?: (number | null)[]; entropies?: (number | null)[] };
}

export interface RungTrace {
  model: string;
  node: string;
  /** The tier of the node that answered. */
  tier?: "private" | "public";
  /** How many times the request climbed to a larger model because an answer looked weak. */
  escalations: number;
  /** The profile that chose where on the ladder the request started (absent when a model was pinned). */
  profile?: string;
  /** Why the request started above the smallest capable rung, if it did. */
  preRouted?: string[];
  attempts: Attempt[];
}

export interface Meta {
  id: string;
  created: number;
  model: string;
}

/** The fields every completion body and chunk opens with, in OpenAI's order. */
function envelope<Kind extends string>(meta: Meta, object: Kind) {
  return { id: meta.id, object, created: meta.created, model: meta.model };
}

export function usageOf(promptTokens: number, completionTokens: number): OpenAiUsage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** OpenAI's `tool_calls` entry of an assistant message. */
export function openAiToolCall(call: ToolCall) {
  return { id: call.id, type: "function" as const, function: { name: call.name, arguments: call.arguments } };
}

/**
 * A whole answer. With tool calls, `content` is null when the model wrote no
 * text besides them, as OpenAI sends it.
 */
export function chatCompletion(
  meta: Meta,
  content: string,
  finishReason: FinishReasonValue,
  usage: OpenAiUsage,
  rung: RungTrace,
  toolCalls?: readonly ToolCall[],
) {
  const calls = toolCalls && toolCalls.length > 0 ? { tool_calls: toolCalls.map(openAiToolCall) } : {};
  return {
    ...envelope(meta, "chat.completion"),
    choices: [
      {
        index: 0,
        message: { role: "assistant" as const, content: calls.tool_calls && !content ? null : content, refusal: null, ...calls },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage,
    rung,
  };
}

/** A streamed tool call, as OpenAI streams one: `index` says which call; here each comes whole in one delta. */
export interface ToolCallDelta {
  index: number;
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export function toolCallDeltas(toolCalls: readonly ToolCall[]): ToolCallDelta[] {
  return toolCalls.map((call, index) => ({ index, ...openAiToolCall(call) }));
}

export function chatCompletionChunk(
  meta: Meta,
  delta: { role?: "assistant"; content?: string; tool_calls?: ToolCallDelta[] },
  finishReason: FinishReasonValue | null,
) {
  return {
    ...envelope(meta, "chat.completion.chunk"),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The extra last chunk of `stream_options.include_usage`: no choices, only usage. */
export function chatUsageChunk(meta: Meta, usage: OpenAiUsage, rung: RungTrace) {
  return {
    ...envelope(meta, "chat.completion.chunk"),
    choices: [],
    usage,
    rung,
  };
}

export function textCompletion(meta: Meta, text: string, finishReason: FinishReasonValue | null, usage?: OpenAiUsage, rung?: RungTrace) {
  return {
    ...envelope(meta, "text_completion"),
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
    ...(usage ? { usage } : {}),
    ...(rung ? { rung } : {}),
  };
}

export function modelList(models: { id: string; created: number; ownedBy: string }[]) {
  return {
    object: "list" as const,
    data: models.map((m) => ({ id: m.id, object: "model" as const, created: m.created, owned_by: m.ownedBy })),
  };
}
