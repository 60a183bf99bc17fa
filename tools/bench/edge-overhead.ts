// What does the edge cost? Runs the same greedy request side by side, round
// after round: directly on node-llama-cpp in this process, and through the
// local edge (workerd) to a rung-agent process serving the same model with the
// official openai client. Prints medians and ratios; nothing here is a test.
//
//   npm run bench              (ROUNDS=30 MAX_TOKENS=64 to change the run)
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { LlamaCppEngine } from "../../native-node/src/engines/llama-cpp-engine.ts";
import { AgentProcess } from "../../tests/e2e/harness/agent-process.ts";
import { startLocalEdge } from "../../tests/e2e/harness/local-edge.ts";
import { modelCache } from "../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../gguf/make-test-model.ts";
import { benchModel } from "./bench-model.ts";

const rounds = Number(process.env.ROUNDS ?? 20);
const maxTokens = Number(process.env.MAX_TOKENS ?? 64);
const messages = [{ role: "user" as const, content: "Write a short story about a lighthouse keeper." }];
const sampling = { maxTokens, temperature: 0, topP: 1, stop: [] };

interface Sample {
  /** Request sent to complete answer, ms. */
  totalMs: number;
  /** Request sent to first text, ms (streaming runs). */
  firstMs: number;
  /** Completion tokens per second between the first and the last piece (streaming runs). */
  tokensPerSecond: number;
}

const path = await ensureTestModel(benchModel, modelCache);
const direct = await LlamaCppEngine.load({ models: [{ id: benchModel.name, path }], threads: 1, slots: 1, measureSpeed: false });
const edge = await startLocalEdge();
const agent = new AgentProcess({ edge: edge.url, name: "bench-agent", models: [path], extraArgs: ["--slots", "1"] });
await agent.joined([benchModel.name]);
const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 });

async function directRun(): Promise<Sample> {
  const started = performance.now();
  const times: number[] = [];
  const result = await direct.generate(
    { model: benchModel.name, input: { kind: "chat", messages }, sampling },
    { signal: new AbortController().signal, onPiece: () => times.push(performance.now()) },
  );
  return sampleOf(started, times, result.usage.completionTokens);
}

async function edgeWholeRun(): Promise<number> {
  const started = performance.now();
  await client.chat.completions.create({ model: benchModel.name, messages, max_tokens: maxTokens, temperature: 0 });
  return performance.now() - started;
}

async function edgeStreamRun(): Promise<Sample> {
  const started = performance.now();
  const times: number[] = [];
  let tokens = 0;
  const stream = await client.chat.completions.create({
    model: benchModel.name,
    messages,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) times.push(performance.now());
    if (chunk.usage) tokens = chunk.usage.completion_tokens;
  }
  return sampleOf(started, times, tokens);
}

function sampleOf(started: number, times: number[], tokens: number): Sample {
  const first = times[0] ?? performance.now();
  const last = times.at(-1) ?? first;
  return { totalMs: last - started, firstMs: first - started, tokensPerSecond: ((tokens - 1) * 1000) / Math.max(last - first, 1e-3) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

try {
  // Warm both paths (first-request compilation, caches) before measuring.
  for (let i = 0; i < 2; i++) {
    await directRun();
    await edgeWholeRun();
    await edgeStreamRun();
  }
  const directSamples: Sample[] = [];
  const wholeMs: number[] = [];
  const streamSamples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    directSamples.push(await directRun());
    wholeMs.push(await edgeWholeRun());
    streamSamples.push(await edgeStreamRun());
  }
  const directMs = median(directSamples.map((s) => s.totalMs));
  const edgeMs = median(wholeMs);
  const directTps = median(directSamples.map((s) => s.tokensPerSecond));
  const edgeTps = median(streamSamples.map((s) => s.tokensPerSecond));
  const f = (n: number) => n.toFixed(1);
  console.log(
    `\nrung-bench (${benchModel.embeddingLength} wide, ${benchModel.layers} layers), ${maxTokens} greedy tokens, threads 1, ${rounds} rounds side by side\n`,
  );
  console.log(`| path | median whole answer (ms) | median first token (ms) | median streamed tok/s |`);
  console.log(`|---|---|---|---|`);
  console.log(`| node-llama-cpp in process | ${f(directMs)} | ${f(median(directSamples.map((s) => s.firstMs)))} | ${f(directTps)} |`);
  console.log(`| edge → agent (openai client) | ${f(edgeMs)} | ${f(median(streamSamples.map((s) => s.firstMs)))} | ${f(edgeTps)} |`);
  console.log(`\nadded latency, whole answer: ${f(edgeMs - directMs)} ms median (${f(edgeMs / directMs)}x)`);
  console.log(`streamed tokens/s through the edge: ${f((edgeTps / directTps) * 100)}% of direct`);
} finally {
  await agent.stop();
  await edge.dispose();
  await direct.dispose();
}
