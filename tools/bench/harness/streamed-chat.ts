import { performance } from "node:perf_hooks";
import type OpenAI from "openai";

/** One streamed answer: when it was asked, when each piece of text arrived, and the tokens it counted. */
export interface StreamedChat {
  startedAt: number;
  pieceTimes: number[];
  completionTokens: number;
}

/** A greedy streamed chat completion through the official client, its pieces timed as they arrive. */
export async function streamedChat(
  client: OpenAI,
  request: { model: string; messages: { role: "user"; content: string }[]; maxTokens: number },
): Promise<StreamedChat> {
  const startedAt = performance.now();
  const pieceTimes: number[] = [];
  let completionTokens = 0;
  const stream = await client.chat.completions.create({
    model: request.model,
    messages: request.messages,
    max_tokens: request.maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) pieceTimes.push(performance.now());
    if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
  }
  return { startedAt, pieceTimes, completionTokens };
}

/** Decoding speed: tokens after the first over the time from the first piece to the last (NaN when there is no span). */
export function tokensPerSecond(pieceTimes: readonly number[], completionTokens: number): number {
  const seconds = ((pieceTimes.at(-1) ?? 0) - (pieceTimes[0] ?? 0)) / 1000;
  return completionTokens > 1 && seconds > 0 ? (completionTokens - 1) / seconds : Number.NaN;
}
