import {
  chatCompletion,
  chatCompletionChunk,
  chatUsageChunk,
  type FinishReasonValue,
  type Meta,
  type OpenAiUsage,
  type RungTrace,
  textCompletion,
  toolCallDeltas,
} from "@rung/shared/openai";
import type { ToolCall } from "@rung/shared/protocol";

/**
 * The two OpenAI endpoints differ only in the shape of their bodies; the relay
 * logic is shared and asks a dialect for each body.
 */
export interface Dialect {
  idPrefix: string;
  /** Chat streams with include_usage say `usage: null` on every chunk before the usage chunk; legacy completions do not. */
  nullUsageBeforeLast: boolean;
  /** The first stream chunk, before any text (chat announces the role there). */
  opening(meta: Meta): object | undefined;
  piece(meta: Meta, text: string): object;
  /** The last chunks with choices: a chat stream's tool calls come whole just before its finish reason. */
  closing(meta: Meta, finishReason: FinishReasonValue, toolCalls?: readonly ToolCall[]): object[];
  usage(meta: Meta, usage: OpenAiUsage, rung: RungTrace): unknown;
  whole(
    meta: Meta,
    text: string,
    finishReason: FinishReasonValue,
    usage: OpenAiUsage,
    rung: RungTrace,
    toolCalls?: readonly ToolCall[],
  ): unknown;
}

export const chatDialect: Dialect = {
  idPrefix: "chatcmpl-",
  nullUsageBeforeLast: true,
  opening: (meta) => chatCompletionChunk(meta, { role: "assistant", content: "" }, null),
  piece: (meta, text) => chatCompletionChunk(meta, { content: text }, null),
  closing: (meta, finishReason, toolCalls) => [
    ...(toolCalls?.length ? [chatCompletionChunk(meta, { tool_calls: toolCallDeltas(toolCalls) }, null)] : []),
    chatCompletionChunk(meta, {}, finishReason),
  ],
  usage: chatUsageChunk,
  whole: chatCompletion,
};

export const completionDialect: Dialect = {
  idPrefix: "cmpl-",
  nullUsageBeforeLast: false,
  opening: () => undefined,
  piece: (meta, text) => textCompletion(meta, text, null),
  // Tools exist only for chat: a completion job never carries them.
  closing: (meta, finishReason) => [textCompletion(meta, "", finishReason)],
  usage: (meta, usage, rung) => ({ ...textCompletion(meta, "", null, usage, rung), choices: [] }),
  whole: (meta, text, finishReason, usage, rung) => textCompletion(meta, text, finishReason, usage, rung),
};

/** The dialects by name, as a job carries its reply shape across to the Durable Object. */
export const dialects = { chat: chatDialect, completion: completionDialect } as const;
