import { performance } from "node:perf_hooks";
import type { RungTrace } from "@rung/shared/openai";
import type OpenAI from "openai";

export interface Answer {
  rung: RungTrace;
  promptTokens: number;
  completionTokens: number;
  /** Request sent to first text (streams), ms. */
  firstMs: number | null;
  /** Request sent to the answer's end, ms. */
  totalMs: number;
}

export interface Ask {
  model: string;
  text: string;
  stream: boolean;
  maxTokens?: number;
}

/** A request function for `client` that asks for `defaultMaxTokens` unless told otherwise. */
export function makeAsk(client: OpenAI, defaultMaxTokens: number): (ask: Ask) => Promise<Answer> {
  /** One request with the official client; the answer's `rung` trace is Rung's extension to OpenAI's body. */
  async function ask({ model, text, stream, maxTokens: max = defaultMaxTokens }: Ask): Promise<Answer> {
    const base = { model, messages: [{ role: "user" as const, content: text }], max_tokens: max, temperature: 0 };
    const started = performance.now();
    if (!stream) {
      const completion = await client.chat.completions.create(base);
      const trace = (completion as unknown as { rung?: RungTrace }).rung;
      if (!trace || !completion.usage) throw new Error(`answer without rung trace or usage: ${JSON.stringify(completion)}`);
      return {
        rung: trace,
        promptTokens: completion.usage.prompt_tokens,
        completionTokens: completion.usage.completion_tokens,
        firstMs: null,
        totalMs: performance.now() - started,
      };
    }
    const chunks = await client.chat.completions.create({ ...base, stream: true, stream_options: { include_usage: true } });
    let firstMs: number | null = null;
    let last: (typeof chunks extends AsyncIterable<infer C> ? C : never) | undefined;
    for await (const chunk of chunks) {
      if (firstMs === null && chunk.choices[0]?.delta.content) firstMs = performance.now() - started;
      last = chunk;
    }
    const totalMs = performance.now() - started;
    // The trace rides in the final (usage) chunk when include_usage is set.
    const trace = (last as unknown as { rung?: RungTrace } | undefined)?.rung;
    if (!trace || !last?.usage) throw new Error(`stream ended without a usage chunk carrying the rung trace: ${JSON.stringify(last)}`);
    return { rung: trace, promptTokens: last.usage.prompt_tokens, completionTokens: last.usage.completion_tokens, firstMs, totalMs };
  }
  return ask;
}
