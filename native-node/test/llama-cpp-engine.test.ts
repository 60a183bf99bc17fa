import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@rung/shared/node";
import { type Sampling, WireErrorCode } from "@rung/shared/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { parameterCount } from "../../tools/gguf/test-model-options.ts";
import { TEST_MODELS } from "../../tools/gguf/test-model-presets.ts";
import { LlamaCppEngine } from "../src/engines/llama-cpp-engine.ts";
import { engineErrorOf, generateWith } from "./helpers/generate-with.ts";

/** Real node-llama-cpp on a generated model: small enough that every test takes milliseconds. */
const CONTEXT = 256;
const GREEDY: Sampling = { temperature: 0, topP: 1, stop: [] };
const MODEL = "tiny";

let engine: LlamaCppEngine;

beforeAll(async () => {
  const path = await ensureTestModel(TEST_MODELS.tiny, join(tmpdir(), "rung-native-node-models"));
  engine = await LlamaCppEngine.load({
    models: [{ id: MODEL, path }],
    gpu: false,
    threads: 1,
    slots: 2,
    contextSize: CONTEXT,
  });
});

afterAll(async () => {
  await engine?.dispose();
});

const completion = (prompt: string, sampling: Partial<Sampling> = {}): GenerationRequest => ({
  model: MODEL,
  input: { kind: "completion", prompt },
  sampling: { ...GREEDY, ...sampling },
});

const generate = (request: GenerationRequest, signal?: AbortSignal) => generateWith(engine, request, signal);

describe("LlamaCppEngine", () => {
  it("describes the model it loaded", () => {
    expect(engine.name).toBe("llama-cpp");
    expect(engine.slots).toBe(2);
    expect(engine.models).toEqual([
      {
        id: MODEL,
        parameters: parameterCount(TEST_MODELS.tiny),
        quantization: "F32",
        contextLength: CONTEXT,
        // Not measured at load: the agent measures after joining (see llama-cpp-speed-probe.test.ts).
        tokensPerSecond: 0,
        slots: 2,
        capabilities: { jsonSchema: true, tools: true, logprobs: true },
      },
    ]);
  });

  it("generates deterministically when greedy, stopping at maxTokens", async () => {
    const a = await generate(completion("Once upon a time", { maxTokens: 24 }));
    const b = await generate(completion("Once upon a time", { maxTokens: 24 }));
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    expect(a.finishReason).toBe("length");
    expect(a.usage).toEqual({ promptTokens: 1 + "Once upon a time".length, completionTokens: 24 });
    for (const { confidence } of a.pieces) {
      expect(confidence).toBeGreaterThan(0);
      expect(confidence).toBeLessThanOrEqual(1);
    }
  });

  it("answers chat through the model's chat template", async () => {
    const result = await generate({
      model: MODEL,
      input: {
        kind: "chat",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
      },
      sampling: { ...GREEDY, maxTokens: 8 },
    });
    expect(result.text.length).toBeGreaterThan(0);
    // ChatML: "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" after BOS.
    expect(result.usage.promptTokens).toBe(1 + 1 + "system\nBe brief.".length + 2 + "\nuser\nHi".length + 2 + "\nassistant\n".length);
  });

  it("reports each piece's margin and entropy when the request asks for token signals (1.7), and only then", async () => {
    const request = completion("Once upon a time", { maxTokens: 12 });
    const plain = await generate(request);
    const signalled = await generate({ ...request, tokenSignals: true });
    expect(signalled.text).toBe(plain.text);
    expect(plain.pieces.every((piece) => !("margin" in piece) && !("entropy" in piece))).toBe(true);
    for (const { confidence, margin, entropy } of signalled.pieces) {
      // Greedy: margin is the chosen token's lead over the runner-up, so within its own probability.
      expect(margin).toBeGreaterThan(0);
      expect(margin).toBeLessThanOrEqual(confidence!);
      expect(entropy).toBeGreaterThan(0);
    }
  });

  it("ends at a stop string and leaves it out", async () => {
    const { text } = await generate(completion("Once upon a time", { maxTokens: 40 }));
    const stop = text.slice(10, 13);
    const result = await generate(completion("Once upon a time", { maxTokens: 40, stop: [stop] }));
    expect(result.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(result.finishReason).toBe("stop");
  });

  it("runs two jobs at once on two sequences; a third waits for a free one", async () => {
    const order: string[] = [];
    const finished: string[] = [];
    const run = async (label: string, prompt: string) => {
      const result = await engine.generate(completion(prompt, { maxTokens: 48 }), {
        signal: new AbortController().signal,
        onPiece: () => order.push(label),
      });
      finished.push(label);
      return result;
    };
    const results = await Promise.all([run("a", "Once upon a time"), run("b", "In a galaxy far away"), run("c", "A third one")]);
    expect(results.map((r) => r.usage.completionTokens)).toEqual([48, 48, 48]);
    // Interleaved pieces: a and b were decoded together, not one after the other...
    expect(order.indexOf("b")).toBeLessThan(order.lastIndexOf("a"));
    expect(order.indexOf("a")).toBeLessThan(order.lastIndexOf("b"));
    // ...while c only started once one of them had finished.
    expect(finished.indexOf("c")).toBe(2);
    expect(order.indexOf("c")).toBeGreaterThan(Math.min(order.lastIndexOf("a"), order.lastIndexOf("b")));
  });

  it("lets a job waiting for a sequence be aborted", async () => {
    const busy = [generate(completion("a", { maxTokens: 64 })), generate(completion("b", { maxTokens: 64 }))];
    const controller = new AbortController();
    const waiting = engine.generate(completion("c"), { signal: controller.signal, onPiece: () => {} });
    controller.abort();
    expect(await engineErrorOf(waiting)).toMatchObject({ code: WireErrorCode.cancelled, retryable: false });
    await Promise.all(busy);
  });

  it("stops promptly when aborted and frees its sequence", async () => {
    const controller = new AbortController();
    let pieces = 0;
    const error = await engineErrorOf(
      engine.generate(completion("Once upon a time"), {
        signal: controller.signal,
        onPiece: () => {
          pieces += 1;
          if (pieces === 3) controller.abort();
        },
      }),
    );
    expect(error).toMatchObject({ code: WireErrorCode.cancelled, retryable: false });
    expect(pieces).toBeLessThanOrEqual(4);
    // Both sequences are free again.
    const both = await Promise.all([generate(completion("x", { maxTokens: 2 })), generate(completion("y", { maxTokens: 2 }))]);
    expect(both.map((r) => r.usage.completionTokens)).toEqual([2, 2]);
  });

  it("refuses a prompt too long for its context as retryable elsewhere", async () => {
    const tooLong = await engineErrorOf(generate(completion("x".repeat(CONTEXT))));
    expect(tooLong).toMatchObject({ code: WireErrorCode.contextLengthExceeded, retryable: true });
    const noRoom = await engineErrorOf(generate(completion("x".repeat(200), { maxTokens: 100 })));
    expect(noRoom.code).toBe(WireErrorCode.contextLengthExceeded);
  });

  it("ends with length when the context fills up", async () => {
    const prompt = "y".repeat(CONTEXT - 20);
    const result = await generate(completion(prompt));
    expect(result.finishReason).toBe("length");
    expect(result.usage.promptTokens + result.usage.completionTokens).toBe(CONTEXT);
  });

  it("refuses models it does not serve", async () => {
    const error = await engineErrorOf(generate({ ...completion("x"), model: "other" }));
    expect(error).toMatchObject({ code: WireErrorCode.unknownModel, retryable: true });
  });
});
