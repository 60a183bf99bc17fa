import {
  type ChatCompletionChunk,
  type ChatCompletionRequestStreaming,
  type Completion,
  type CompletionCreateParamsStreaming,
  prebuiltAppConfig,
} from "@mlc-ai/web-llm";
import { EngineError, type GeneratedPiece, type GenerationRequest } from "@rung/shared/node";
import type { WireChatMessage } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { type MlcEngineLike, modelInfoOf, WebllmEngine } from "../../src/engines/webllm-engine.ts";

/**
 * One decoding step as the fake streams it: the text WebLLM lets out (empty while it holds a token back), the
 * token's probability, and those of the other likeliest tokens (default none: 0 each).
 */
type Step = { text: string; p: number; others?: number[] } | { fail: unknown } | "wait-for-interrupt";

/**
 * A stand-in for MLCEngine: WebLLM fetches weights and compiled kernels from
 * hosts these machines cannot reach, so no real model can load here. Its
 * chunks have the shapes of WebLLM 0.2.86's `makeStreamDeltaChunk`,
 * `makeStreamFinalChunk` and `makeStreamUsageChunk`: one token's logprob per
 * delta chunk, a final chunk with `finish_reason` ("abort" after
 * `interruptGenerate()`), then usage when `stream_options.include_usage` is set.
 * Each token's `top_logprobs` are the request's `top_logprobs` likeliest of the
 * chosen and the other tokens, most likely first, as `getTokenLogprob` lists them.
 */
class FakeMlc implements MlcEngineLike {
  readonly requests: (ChatCompletionRequestStreaming | CompletionCreateParamsStreaming)[] = [];
  interrupts = 0;
  unloads = 0;
  #interrupted = false;
  #wake: () => void = () => {};

  constructor(
    private readonly steps: Step[],
    private readonly finish: "stop" | "length" = "stop",
  ) {}

  readonly chat = {
    completions: {
      create: async (request: ChatCompletionRequestStreaming) => {
        this.requests.push(request);
        return this.#stream<ChatCompletionChunk>(true, request.top_logprobs ?? 0);
      },
    },
  };
  readonly completions = {
    create: async (request: CompletionCreateParamsStreaming) => {
      this.requests.push(request);
      return this.#stream<Completion>(false, request.top_logprobs ?? 0);
    },
  };

  async interruptGenerate(): Promise<void> {
    this.interrupts += 1;
    this.#interrupted = true;
    this.#wake();
  }

  async unload(): Promise<void> {
    this.unloads += 1;
  }

  async *#stream<T>(chat: boolean, topCount: number): AsyncGenerator<T> {
    const base = { id: "x", created: 0, model: "m", object: chat ? "chat.completion.chunk" : "text_completion" };
    let tokens = 0;
    for (const step of this.steps) {
      if (step === "wait-for-interrupt" && !this.#interrupted) await new Promise<void>((resolve) => (this.#wake = resolve));
      if (this.#interrupted) break;
      if (typeof step === "object" && "fail" in step) throw step.fail;
      if (typeof step !== "object") continue;
      tokens += 1;
      const ranked = [{ token: step.text, p: step.p }, ...(step.others ?? []).map((p, i) => ({ token: `other${i}`, p }))];
      ranked.sort((a, b) => b.p - a.p);
      const top_logprobs = ranked.slice(0, topCount).map(({ token, p }) => ({ token, bytes: [], logprob: Math.log(p) }));
      const logprobs = { content: [{ token: step.text, bytes: [], logprob: Math.log(step.p), top_logprobs }] };
      const choice = chat
        ? { delta: { content: step.text, role: "assistant" }, finish_reason: null, index: 0, logprobs }
        : { text: step.text, finish_reason: null, index: 0, logprobs };
      yield { ...base, choices: [choice] } as T;
    }
    const finish_reason = this.#interrupted ? "abort" : this.finish;
    yield { ...base, choices: [chat ? { delta: {}, finish_reason, index: 0 } : { text: "", finish_reason, index: 0 }] } as T;
    yield { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: tokens, total_tokens: 7 + tokens } } as T;
  }
}

const record = prebuiltAppConfig.model_list.find((model) => model.model_id === "Qwen2.5-0.5B-Instruct-q4f16_1-MLC")!;

function chat(request: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    model: record.model_id,
    input: { kind: "chat", messages: [{ role: "user", content: "Hi" }] },
    sampling: { temperature: 0.7, topP: 0.9, stop: [] },
    ...request,
  };
}

async function run(fake: FakeMlc, request: GenerationRequest, signal = new AbortController().signal) {
  const pieces: GeneratedPiece[] = [];
  const result = await new WebllmEngine(fake, modelInfoOf(record)).generate(request, { signal, onPiece: (piece) => pieces.push(piece) });
  return { pieces, result };
}

describe("WebllmEngine", () => {
  it("announces the record's size, quantization and context, with logprobs", () => {
    const engine = new WebllmEngine(new FakeMlc([]), modelInfoOf(record));
    expect(engine.name).toBe("webllm");
    expect(engine.slots).toBe(1);
    expect(engine.models).toEqual([
      {
        id: record.model_id,
        parameters: 5e8,
        quantization: "q4f16_1",
        contextLength: 4096,
        tokensPerSecond: 0,
        slots: 1,
        capabilities: { jsonSchema: false, tools: false, logprobs: true },
      },
    ]);
  });

  it("streams pieces whose confidence is the chosen token's probability, and reports usage and finish reason", async () => {
    const fake = new FakeMlc(
      [
        { text: "Hello", p: 0.9 },
        { text: ",", p: 0.25 },
        { text: " world", p: 0.5 },
      ],
      "length",
    );
    const { pieces, result } = await run(fake, chat({ sampling: { temperature: 0.7, topP: 0.9, stop: [], maxTokens: 3 } }));
    expect(pieces.map((piece) => piece.text)).toEqual(["Hello", ",", " world"]);
    expect(pieces.map((piece) => piece.confidence)).toEqual([expect.closeTo(0.9, 9), expect.closeTo(0.25, 9), expect.closeTo(0.5, 9)]);
    expect(result).toEqual({ finishReason: "length", usage: { promptTokens: 7, completionTokens: 3 } });
  });

  it("carries the confidence of a held-back token into the next piece", async () => {
    const { pieces } = await run(
      new FakeMlc([
        { text: "", p: 0.2 },
        { text: "é", p: 0.9 },
      ]),
      chat(),
    );
    expect(pieces).toEqual([{ text: "é", confidence: expect.closeTo(0.2, 9) }]);
  });

  it("asks for streamed logprobs and maps sampling; greedy becomes temperature 1 with the least top_p", async () => {
    const fake = new FakeMlc([]);
    await run(fake, chat({ sampling: { temperature: 0, topP: 1, stop: ["\n\n"], maxTokens: 16, seed: 3 } }));
    await run(fake, chat());
    expect(fake.requests[0]).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
      top_logprobs: 1,
      temperature: 1,
      top_p: 1e-5,
      max_tokens: 16,
      stop: ["\n\n"],
      seed: 3,
    });
    expect(fake.requests[1]).toMatchObject({ temperature: 0.7, top_p: 0.9 });
    expect(fake.requests[1]).not.toHaveProperty("stop");
    expect(fake.requests[1]).not.toHaveProperty("max_tokens");
  });

  it("asks for the top two tokens when the job wants token signals, and reports each piece's margin but no entropy", async () => {
    const fake = new FakeMlc([
      { text: "Hello", p: 0.7, others: [0.2, 0.05] },
      // Sampled: another token was likelier, so the margin is 0.
      { text: ",", p: 0.3, others: [0.6] },
      { text: "", p: 0.9, others: [0.05] },
      { text: "é", p: 0.5, others: [0.45] },
    ]);
    const { pieces } = await run(fake, chat({ tokenSignals: true }));
    expect(fake.requests[0]).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(pieces).toEqual([
      { text: "Hello", confidence: expect.closeTo(0.7, 9), margin: expect.closeTo(0.5, 9), entropy: null },
      { text: ",", confidence: expect.closeTo(0.3, 9), margin: 0, entropy: null },
      // The held-back token's confidence and margin count for the piece that lets its text out: the smaller of each.
      { text: "é", confidence: expect.closeTo(0.5, 9), margin: expect.closeTo(0.05, 9), entropy: null },
    ]);
  });

  it("asks for one top token and reports no margins without token signals", async () => {
    const fake = new FakeMlc([{ text: "Hi", p: 0.7, others: [0.2] }]);
    const { pieces } = await run(fake, chat());
    expect(fake.requests[0]).toMatchObject({ top_logprobs: 1 });
    expect(pieces).toEqual([{ text: "Hi", confidence: expect.closeTo(0.7, 9) }]);
  });

  it("renders developer turns as the system prompt and tool turns as text WebLLM accepts", async () => {
    const fake = new FakeMlc([]);
    const messages: WireChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "developer", content: "Answer in English." },
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "weather", arguments: '{"city":"Oslo"}' }] },
      { role: "tool", content: "4°C", toolCallId: "c1" },
    ];
    await run(fake, chat({ input: { kind: "chat", messages } }));
    expect((fake.requests[0] as ChatCompletionRequestStreaming).messages).toEqual([
      { role: "system", content: "Be brief.\n\nAnswer in English." },
      { role: "user", content: "Weather in Oslo?" },
      { role: "assistant", content: '{"name":"weather","arguments":{"city":"Oslo"}}' },
      { role: "user", content: "Result of call c1:\n4°C" },
    ]);
  });

  it("runs completion jobs through WebLLM's completions API", async () => {
    const fake = new FakeMlc([{ text: " upon", p: 0.8 }]);
    const { pieces, result } = await run(fake, chat({ input: { kind: "completion", prompt: "Once" } }));
    expect(fake.requests[0]).toMatchObject({ prompt: "Once", stream: true, logprobs: true });
    expect(pieces).toEqual([{ text: " upon", confidence: expect.closeTo(0.8, 9) }]);
    expect(result.finishReason).toBe("stop");
  });

  it("interrupts WebLLM on abort and rejects with a final cancelled", async () => {
    const fake = new FakeMlc([{ text: "Hel", p: 0.9 }, "wait-for-interrupt", { text: "lo", p: 0.9 }]);
    const controller = new AbortController();
    const pieces: GeneratedPiece[] = [];
    const engine = new WebllmEngine(fake, modelInfoOf(record));
    const done = engine.generate(chat(), {
      signal: controller.signal,
      onPiece: (piece) => {
        pieces.push(piece);
        controller.abort();
      },
    });
    await expect(done).rejects.toMatchObject({ code: "cancelled", retryable: false });
    await expect(done).rejects.toBeInstanceOf(EngineError);
    expect(fake.interrupts).toBe(1);
    expect(pieces.map((piece) => piece.text)).toEqual(["Hel"]);
  });

  it("does not start a job whose signal is already aborted", async () => {
    const fake = new FakeMlc([{ text: "x", p: 1 }]);
    await expect(run(fake, chat(), AbortSignal.abort())).rejects.toMatchObject({ code: "cancelled" });
    expect(fake.requests).toEqual([]);
  });

  it("treats an interrupt it did not ask for as a retryable failure", async () => {
    const fake = new FakeMlc([{ text: "a", p: 0.9 }, "wait-for-interrupt"]);
    const job = run(fake, chat());
    await Promise.resolve();
    await fake.interruptGenerate();
    await expect(job).rejects.toMatchObject({ code: "generation_interrupted", retryable: true });
  });

  it("maps a failure mid-stream through toEngineError", async () => {
    const lost = Object.assign(new Error("The WebGPU device was lost while loading the model."), { name: "DeviceLostError" });
    await expect(run(new FakeMlc([{ text: "a", p: 0.9 }, { fail: lost }]), chat())).rejects.toMatchObject({
      code: "gpu_device_lost",
      retryable: true,
    });
  });

  it("unloads the model on dispose", async () => {
    const fake = new FakeMlc([]);
    await new WebllmEngine(fake, modelInfoOf(record)).dispose();
    expect(fake.unloads).toBe(1);
  });
});
