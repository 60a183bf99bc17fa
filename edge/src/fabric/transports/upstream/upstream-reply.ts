import { type Chunk, type Done, FinishReason, type Job, type ToolCall } from "@rung/shared/protocol";
import { estimateTokens } from "@rung/shared/routing";
import { z } from "zod";

/**
 * One `data:` event of an OpenAI-compatible stream, chat or legacy completion.
 * Loose: upstreams add fields of their own; only what becomes a frame is read.
 */
const streamEventSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z
          .looseObject({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.looseObject({
                  // A done frame carries at most 128 tool calls.
                  index: z.number().int().min(0).max(127),
                  id: z.string().max(128).nullish(),
                  function: z.looseObject({ name: z.string().max(128).nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        /** Legacy completions carry their text here instead of in `delta`. */
        text: z.string().nullish(),
        logprobs: z
          .looseObject({
            content: z.array(z.looseObject({ logprob: z.number() })).nullish(),
            token_logprobs: z.array(z.number().nullable()).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.looseObject({ prompt_tokens: z.number().int().nonnegative(), completion_tokens: z.number().int().nonnegative() }).nullish(),
  /** Some servers (Rung's own edge among them) report a failure mid-stream as an event. */
  error: z.looseObject({ message: z.string().nullish() }).nullish(),
});

/** What one event means to the job. */
export type ReplyStep = { chunk?: Chunk; error?: string };

/**
 * Turns an upstream's stream events into the frames a node would send:
 * a chunk per piece of text (seq from 0, confidence from logprobs where the
 * upstream gives them), then one done with the assembled tool calls and the
 * upstream's usage, or a count where it sent none.
 */
export class UpstreamReply {
  #seq = 0;
  #finishReason: string | undefined;
  #usage: Done["usage"] | undefined;
  readonly #toolCalls: { id?: string; name: string; arguments: string }[] = [];

  constructor(private readonly job: Job) {}

  /** One `data:` payload other than `[DONE]`. */
  read(data: string): ReplyStep {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return { error: "the upstream sent an event that is not JSON" };
    }
    const parsed = streamEventSchema.safeParse(json);
    if (!parsed.success) return { error: `the upstream sent an unexpected event (${parsed.error.issues[0]?.message})` };
    const event = parsed.data;
    if (event.error) return { error: `the upstream failed mid-answer: ${event.error.message ?? "no message"}` };
    if (event.usage) this.#usage = { promptTokens: event.usage.prompt_tokens, completionTokens: event.usage.completion_tokens };
    const choice = event.choices?.[0];
    if (!choice) return {};
    if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    for (const delta of choice.delta?.tool_calls ?? []) {
      this.#toolCalls[delta.index] ??= { name: "", arguments: "" };
      const call = this.#toolCalls[delta.index]!;
      call.id ??= delta.id ?? undefined;
      call.name ||= delta.function?.name ?? "";
      call.arguments += delta.function?.arguments ?? "";
    }
    const text = choice.delta?.content ?? choice.text ?? "";
    if (!text) return {};
    const logprobs = choice.logprobs?.content?.map((t) => t.logprob) ?? choice.logprobs?.token_logprobs ?? [];
    return { chunk: { type: "chunk", jobId: this.job.jobId, seq: this.#seq++, text, confidence: confidenceOf(logprobs) } };
  }

  /** The done frame, once the upstream said `[DONE]`. */
  done(): Done {
    const toolCalls: ToolCall[] = this.#toolCalls
      .filter((call) => call !== undefined)
      .map((call, index) => ({ id: call.id ?? `call_${this.job.jobId}_${index}`, name: call.name, arguments: call.arguments }));
    return {
      type: "done",
      jobId: this.job.jobId,
      chunks: this.#seq,
      finishReason:
        toolCalls.length > 0 ? FinishReason.toolCalls : this.#finishReason === "length" ? FinishReason.length : FinishReason.stop,
      // Without a usage event, a count: upstreams stream about one token an event.
      usage: this.#usage ?? { promptTokens: estimateTokens(promptTexts(this.job)), completionTokens: this.#seq },
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
    };
  }
}

/** The chunk's tokens' probability per token (geometric mean), so long chunks are not penalised. */
function confidenceOf(logprobs: readonly (number | null)[]): number | null {
  const known = logprobs.filter((l): l is number => l !== null && Number.isFinite(l));
  if (known.length === 0) return null;
  const mean = known.reduce((sum, l) => sum + l, 0) / known.length;
  return Math.min(1, Math.max(0, Math.exp(mean)));
}

function promptTexts(job: Job): string[] {
  return job.input.kind === "chat" ? job.input.messages.map((m) => m.content) : [job.input.prompt];
}
