import type OpenAI from "openai";

/** A streamed chat answer with the arrival time of each piece of its text. */
export interface TimedStream {
  text: string;
  /** The model of its chunks (the last one seen). */
  model: string;
  node: string | null;
  finishReason: string | null;
  /** `performance.now()` at each chunk that carried text, in order. */
  textTimes: number[];
}

/** Streams a chat completion, noting when each piece of text arrived. */
export async function timedStream(client: OpenAI, params: OpenAI.ChatCompletionCreateParamsNonStreaming): Promise<TimedStream> {
  const { data: stream, response } = await client.chat.completions.create({ ...params, stream: true }).withResponse();
  const timed: TimedStream = { text: "", model: "", node: response.headers.get("x-rung-node"), finishReason: null, textTimes: [] };
  for await (const chunk of stream) {
    timed.model = chunk.model;
    const piece = chunk.choices[0]?.delta.content ?? "";
    if (piece) {
      timed.textTimes.push(performance.now());
      timed.text += piece;
    }
    timed.finishReason ??= chunk.choices[0]?.finish_reason ?? null;
  }
  return timed;
}

/**
 * How many of one stream's pieces of text arrived while the other was producing
 * its own, between its first and its last. Two jobs run one after the other
 * share at most a piece or two (arrival order across connections may jitter);
 * two that run at once share many.
 */
export function piecesDuring(stream: TimedStream, other: TimedStream): number {
  const start = other.textTimes[0] ?? Number.POSITIVE_INFINITY;
  const end = other.textTimes.at(-1) ?? Number.NEGATIVE_INFINITY;
  return stream.textTimes.filter((t) => t > start && t < end).length;
}
