import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOKENS, VOCAB_SIZE } from "../../tools/gguf/llama-vocab.ts";
import { buildTestModel, ensureTestModel, writeTestModel } from "../../tools/gguf/make-test-model.ts";
import { parameterCount } from "../../tools/gguf/test-model-options.ts";
import { TEST_MODELS, type TestModelPreset } from "../../tools/gguf/test-model-presets.ts";

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

describe("buildTestModel", () => {
  it("is deterministic and seed-dependent", () => {
    const a = buildTestModel({ seed: 7 });
    const b = buildTestModel({ seed: 7 });
    const c = buildTestModel({ seed: 8 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.length).toBe(c.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it("writes a GGUF v3 header and sizes that follow the options", () => {
    const f32 = buildTestModel(TEST_MODELS.tiny);
    const view = new DataView(f32.buffer, f32.byteOffset);
    expect(new TextDecoder().decode(f32.subarray(0, 4))).toBe("GGUF");
    expect(view.getUint32(4, true)).toBe(3);
    expect(view.getBigUint64(8, true)).toBe(BigInt(3 + 9 * TEST_MODELS.tiny.layers)); // tensor count

    // Data section dominates: f16 roughly halves the file (norms stay f32).
    const f16 = buildTestModel({ ...TEST_MODELS.tiny, type: "f16" });
    expect(f16.length).toBeLessThan(f32.length * 0.55);
    expect(f32.length).toBeGreaterThan(parameterCount(TEST_MODELS.tiny) * 4);
  });

  it("counts parameters from the shapes", () => {
    const embd = 64,
      ff = 256,
      layers = 2;
    const perLayer = 2 * embd + 4 * embd * embd + 3 * embd * ff;
    expect(parameterCount({})).toBe(2 * VOCAB_SIZE * embd + embd + layers * perLayer);
    // GQA shrinks k/v: 2 kv heads of 16 dims instead of 4.
    expect(parameterCount({ kvHeads: 2 })).toBe(parameterCount({}) - layers * 2 * embd * 32);
  });

  it("rejects impossible shapes", () => {
    expect(() => buildTestModel({ heads: 5 })).toThrow(/divisible/);
    expect(() => buildTestModel({ heads: 4, kvHeads: 3 })).toThrow(/kvHeads/);
  });
});

describe("generated models in node-llama-cpp", () => {
  let dir: string;
  let llama: Llama;
  const models = new Map<TestModelPreset, LlamaModel>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-gguf-"));
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: "never" });
  }, 120_000);

  afterAll(async () => {
    for (const m of models.values()) await m.dispose();
    await llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ensureTestModel writes once and keeps an identical file", async () => {
    const path = await ensureTestModel("tiny", dir);
    expect(path).toBe(join(dir, "rung-tiny.gguf"));
    const first = await stat(path);
    expect(await ensureTestModel("tiny", dir)).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(first.mtimeMs); // untouched

    // A stale file (different seed, same size) is replaced.
    await writeTestModel(path, { ...TEST_MODELS.tiny, seed: 99 });
    await ensureTestModel("tiny", dir);
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(buildTestModel(TEST_MODELS.tiny)))).toBe(true);
  });

  for (const preset of Object.keys(TEST_MODELS) as TestModelPreset[]) {
    describe(preset, () => {
      async function load(): Promise<LlamaModel> {
        let model = models.get(preset);
        if (!model) {
          model = await llama.loadModel({ modelPath: await ensureTestModel(preset, dir) });
          models.set(preset, model);
        }
        return model;
      }

      it("loads with the expected metadata and parameter count", async () => {
        const model = await load();
        const options = TEST_MODELS[preset];
        expect(model.fileInsights.totalParameters).toBe(parameterCount(options));
        expect(model.typeDescription).toMatch(/^llama .* all F32$/);
        expect(model.trainContextSize).toBe(options.contextLength);
        expect(model.embeddingVectorSize).toBe(options.embeddingLength);
        expect(model.fileInfo.metadata.general.name).toBe(options.name);
        expect(model.tokens.bos).toBe(TOKENS.bos);
        expect(model.tokens.eos).toBe(TOKENS.eos);
        expect(model.tokens.eot).toBe(TOKENS.imEnd);
        expect(model.isEogToken(TOKENS.imEnd as Token)).toBe(true);
      }, 60_000);

      it("round-trips text through the tokenizer", async () => {
        const model = await load();
        for (const text of ["hello world", " two  spaces ", "ChatML <|im_end|> as text"]) {
          expect(model.detokenize(model.tokenize(text))).toBe(text);
        }
        expect(model.tokenize("<|im_start|>", true)).toEqual([TOKENS.imStart]);
      }, 60_000);

      it("generates deterministic printable ASCII with confidences", async () => {
        const model = await load();
        const context = await model.createContext({ contextSize: 256, threads: 1 });
        try {
          const sequence = context.getSequence();
          const prompt = [model.tokens.bos!, ...model.tokenize("Once upon a time")];

          const run = async () => {
            await sequence.clearHistory();
            const tokens: Token[] = [];
            const confidences: number[] = [];
            const started = performance.now();
            for await (const out of sequence.evaluateWithMetadata(prompt, { confidence: true }, { temperature: 0 })) {
              tokens.push(out.token);
              confidences.push(out.confidence);
              if (tokens.length >= 16) break;
            }
            const seconds = (performance.now() - started) / 1000;
            return { text: model.detokenize(tokens), tokens, confidences, tokensPerSecond: tokens.length / seconds };
          };

          const a = await run();
          const b = await run();
          expect(a.text.length).toBeGreaterThan(0);
          expect(a.text).toMatch(PRINTABLE_ASCII);
          expect(b.tokens).toEqual(a.tokens);
          for (const c of a.confidences) {
            expect(typeof c).toBe("number");
            expect(c).toBeGreaterThan(0);
            expect(c).toBeLessThanOrEqual(1);
          }
          const mean = a.confidences.reduce((s, c) => s + c, 0) / a.confidences.length;
          console.log(
            `${preset}: ${JSON.stringify(a.text)} mean confidence ${mean.toFixed(3)}, ${b.tokensPerSecond.toFixed(0)} tok/s (threads 1)`,
          );
        } finally {
          await context.dispose();
        }
      }, 60_000);
    });
  }

  it("loads an f16 GQA model", async () => {
    const options = { name: "rung-f16-gqa", embeddingLength: 128, heads: 8, kvHeads: 2, layers: 2, type: "f16" as const };
    const model = await llama.loadModel({ modelPath: await ensureTestModel(options, dir) });
    try {
      expect(model.fileInsights.totalParameters).toBe(parameterCount(options));
      expect(model.typeDescription).toMatch(/F16$/);
      expect(model.fileInfo.metadata.general.file_type).toBe(1);
      const context = await model.createContext({ contextSize: 128, threads: 1 });
      const tokens: Token[] = [];
      for await (const t of context.getSequence().evaluate([model.tokens.bos!, ...model.tokenize("Hi")], { temperature: 0 })) {
        tokens.push(t);
        if (tokens.length >= 8) break;
      }
      expect(model.detokenize(tokens)).toMatch(PRINTABLE_ASCII);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  }, 60_000);
});
