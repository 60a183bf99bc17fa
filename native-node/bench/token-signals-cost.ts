/**
 * What `tokenSignals` costs the native agent: decoding speed with and without
 * margins and entropies, on generated models whose vocabulary has the size of
 * real ones. The cost grows with the vocabulary, not the model (node-llama-cpp
 * hands over the whole next-token distribution for every token), and the
 * project's test models have 262 tokens, so this bench widens theirs with
 * unused tokens the model never picks (their logits are pushed far down, as for
 * the test models' non-printable bytes) but which the distribution still holds.
 *
 *   npx tsx native-node/bench/token-signals-cost.ts [--runs 7] [--tokens 128] [--vocab 262,32000,151936]
 *
 * Greedy, one CPU thread, through generateOnSequence (the engine's own loop);
 * runs with and without alternate so a busy machine slows both alike. Each run
 * is timed twice: by the clock, and by the CPU time this process spent (user +
 * system, every thread: llama.cpp's one and JavaScript's), which other work on
 * a shared machine disturbs far less; tokens per CPU second is the speed on a
 * core of its own. Prints the median tokens/s of each way, by both, and the
 * time tokenSignals adds per token: the median over adjacent pairs of runs.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Sampling } from "@rung/shared/protocol";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { benchModel } from "../../tools/bench/bench-model.ts";
import { GgmlType, GgufWriter } from "../../tools/gguf/gguf-writer.ts";
import { buildVocab, TOKENS } from "../../tools/gguf/llama-vocab.ts";
import { tensorData } from "../../tools/gguf/tensor-data.ts";
import { resolveOptions, tensorShapes } from "../../tools/gguf/test-model-options.ts";
import { tokenizeWithBos } from "../src/engines/build-prompt.ts";
import { generateOnSequence } from "../src/engines/generate-on-sequence.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    tokens: { type: "string", default: "128" },
    vocab: { type: "string", default: "262,32000,151936" },
  },
});
const runs = Number(values.runs);
const tokens = Number(values.tokens);
const vocabSizes = values.vocab.split(",").map(Number);
const GREEDY: Sampling = { temperature: 0, topP: 1, stop: [], maxTokens: tokens };
/** gguf's UNUSED token type: never produced by the tokenizer. */
const UNUSED = 5;

/** The bench model's shape (tools/bench/bench-model.ts) in F16, with `vocabSize` tokens: the project's 262, then unused ones. */
function buildModel(vocabSize: number): Uint8Array {
  const r = resolveOptions({ ...benchModel, type: "f16", name: `rung-vocab-${vocabSize}` });
  const vocab = buildVocab();
  const extra = Math.max(0, vocabSize - vocab.tokens.length);
  const tokensList = [...vocab.tokens, ...Array.from({ length: extra }, (_, i) => `<unused_${i}>`)];
  const types = new Int32Array(tokensList.length).fill(UNUSED);
  types.set(vocab.types);
  const g = new GgufWriter(32);
  g.string("general.architecture", "llama")
    .string("general.name", r.name)
    .uint32("general.file_type", 1)
    .uint32("llama.context_length", r.contextLength)
    .uint32("llama.embedding_length", r.embeddingLength)
    .uint32("llama.block_count", r.layers)
    .uint32("llama.feed_forward_length", r.feedForwardLength)
    .uint32("llama.attention.head_count", r.heads)
    .uint32("llama.attention.head_count_kv", r.kvHeads)
    .uint32("llama.rope.dimension_count", r.embeddingLength / r.heads)
    .float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    .uint32("llama.vocab_size", tokensList.length)
    .string("tokenizer.ggml.model", "llama")
    .set("tokenizer.ggml.tokens", { type: "string[]", value: tokensList })
    .set("tokenizer.ggml.scores", { type: "float32[]", value: new Float32Array(tokensList.length) })
    .set("tokenizer.ggml.token_type", { type: "int32[]", value: types })
    .uint32("tokenizer.ggml.bos_token_id", TOKENS.bos)
    .uint32("tokenizer.ggml.eos_token_id", TOKENS.eos)
    .uint32("tokenizer.ggml.eot_token_id", TOKENS.imEnd)
    .uint32("tokenizer.ggml.unknown_token_id", TOKENS.unk)
    .bool("tokenizer.ggml.add_bos_token", true)
    .bool("tokenizer.ggml.add_eos_token", false)
    .bool("tokenizer.ggml.add_space_prefix", false);
  for (const { name, dims } of tensorShapes(r)) {
    const shaped: [number] | [number, number] =
      dims.length === 2 && dims[1] === buildVocab().tokens.length ? [dims[0], tokensList.length] : dims;
    g.addTensor(name, shaped, shaped.length === 1 ? GgmlType.F32 : GgmlType.F16, tensorData(r, name, shaped));
  }
  return g.toBytes();
}

interface Speed {
  cpu: number;
  clock: number;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
const dir = join(tmpdir(), "rung-token-signals-bench");
await mkdir(dir, { recursive: true });
console.log(
  `greedy, ${tokens} tokens a run, ${runs} runs each way, threads 1, ${benchModel.embeddingLength} wide x ${benchModel.layers} layers F16`,
);
console.log("vocabulary | tok/s without, by CPU time (by clock) | tok/s with, by CPU time (by clock) | CPU ms added per token (by clock)");

for (const vocabSize of vocabSizes) {
  const path = join(dir, `rung-vocab-${vocabSize}.gguf`);
  await writeFile(path, buildModel(vocabSize));
  const model: LlamaModel = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 512, sequences: 1, threads: 1 });
  const sequence = context.getSequence();
  const prompt = { tokens: tokenizeWithBos(model, "Once upon a time"), stopTokens: [], stopTexts: [] };

  /** Tokens/s from the first piece on, as the agent's speed probe and meter count it: by CPU time and by the clock. */
  async function speed(tokenSignals: boolean): Promise<Speed> {
    await sequence.clearHistory();
    let first = 0;
    let firstCpu = process.cpuUsage();
    let count = 0;
    await generateOnSequence(sequence, prompt, GREEDY, {
      signal: new AbortController().signal,
      tokenSignals,
      onPiece: () => {
        count += 1;
        if (count === 1) {
          first = performance.now();
          firstCpu = process.cpuUsage();
        }
      },
    });
    const cpu = process.cpuUsage(firstCpu);
    return { cpu: (count - 1) / ((cpu.user + cpu.system) / 1e6), clock: (count - 1) / ((performance.now() - first) / 1000) };
  }

  await speed(false);
  await speed(true);
  const without: Speed[] = [];
  const withSignals: Speed[] = [];
  for (let run = 0; run < runs; run++) {
    // Alternate which goes first, so a trend in the machine's load falls on both.
    if (run % 2 === 0) {
      without.push(await speed(false));
      withSignals.push(await speed(true));
    } else {
      withSignals.push(await speed(true));
      without.push(await speed(false));
    }
  }
  const added = (by: keyof Speed) => median(without.map((a, i) => 1000 / withSignals[i]![by] - 1000 / a[by])).toFixed(2);
  const figure = (xs: Speed[]) => `${median(xs.map((x) => x.cpu)).toFixed(1)} (${median(xs.map((x) => x.clock)).toFixed(1)})`;
  console.log(`${vocabSize} | ${figure(without)} | ${figure(withSignals)} | ${added("cpu")} (${added("clock")})`);
  const list = (xs: Speed[]) => xs.map((x) => x.cpu.toFixed(1)).join(", ");
  console.log(`  by CPU time, runs without: ${list(without)}; with: ${list(withSignals)}`);
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
