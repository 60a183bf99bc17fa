// How fast does a donated tab get going, and how fast does wllama decode?
// Debian's Chromium opens the local edge's /donate page, consents and loads a
// generated GGUF from a loopback model host: page load to ready-to-serve, with
// an empty cache and again with the model cached. Then streamed answers through
// the edge (official openai client) from a tab at 1 thread, at 2 threads, and
// from a native agent on the same file for reference. Medians; nothing here is a test.
//
//   npm run bench:donate        (ROUNDS=5 MAX_TOKENS=128 to change the run)
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import type { Browser, BrowserContext } from "playwright-core";
import { medianOfKnown } from "../../shared/routing/median-of-known.ts";
import { launchChromium } from "../../tests/browser/chromium.ts";
import { DonorTab } from "../../tests/browser/donor-tab.ts";
import { AgentProcess } from "../../tests/e2e/harness/agent-process.ts";
import { startLocalEdge } from "../../tests/e2e/harness/local-edge.ts";
import { modelCache } from "../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../gguf/make-test-model.ts";
import { startModelFileServer } from "../gguf/model-file-server.ts";
import { benchModel } from "./bench-model.ts";
import { streamedChat, tokensPerSecond } from "./harness/streamed-chat.ts";

const rounds = Number(process.env.ROUNDS ?? 5);
const maxTokens = Number(process.env.MAX_TOKENS ?? 128);
const messages = [{ role: "user" as const, content: "Write a short story about a lighthouse keeper." }];
const median = (values: number[]) => medianOfKnown(values, Number.NaN);

const path = await ensureTestModel(benchModel, modelCache);
const files = await startModelFileServer(modelCache);
const edge = await startLocalEdge({
  RUNG_POLICY: JSON.stringify({ donate: { ggufModels: [{ id: benchModel.name, url: `${files.url}/${benchModel.name}.gguf` }] } }),
});
const browser = await launchChromium();
const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 });

/** Navigation to "Serving": the page reads the pool's settings, surveys the device, loads the model, measures it and joins. */
async function loadToReady(context: BrowserContext, threads: number): Promise<{ listedMs: number; readyMs: number; tab: DonorTab }> {
  const started = performance.now();
  const tab = await DonorTab.open(context, `${edge.url}`, `?threads=${threads}`);
  const listedMs = performance.now() - started;
  await tab.startDonating(benchModel.name, 120_000);
  return { listedMs, readyMs: performance.now() - started, tab };
}

async function streamedTokensPerSecond(): Promise<number> {
  const answer = await streamedChat(client, { model: benchModel.name, messages, maxTokens });
  return tokensPerSecond(answer.pieceTimes, answer.completionTokens);
}

async function decodeRun(browser: Browser, threads: number): Promise<number[]> {
  const context = await browser.newContext();
  const { tab } = await loadToReady(context, threads);
  const speeds: number[] = [];
  for (let round = 0; round < rounds; round++) speeds.push(await streamedTokensPerSecond());
  await tab.close();
  await context.close();
  return speeds;
}

const cold = { listed: [] as number[], ready: [] as number[] };
const warm = { listed: [] as number[], ready: [] as number[] };
for (let round = 0; round < rounds; round++) {
  // A fresh context is a fresh profile: nothing cached, as for a first-time donor.
  const context = await browser.newContext();
  const first = await loadToReady(context, 1);
  cold.listed.push(first.listedMs);
  cold.ready.push(first.readyMs);
  await first.tab.close();
  const again = await loadToReady(context, 1);
  warm.listed.push(again.listedMs);
  warm.ready.push(again.readyMs);
  await again.tab.close();
  await context.close();
}

const oneThread = await decodeRun(browser, 1);
const twoThreads = await decodeRun(browser, 2);
const agent = new AgentProcess({ edge: edge.url, name: "bench-agent", models: [path], extraArgs: ["--slots", "1"] });
await agent.joined([benchModel.name]);
const native: number[] = [];
for (let round = 0; round < rounds; round++) native.push(await streamedTokensPerSecond());
await agent.stop();

const ms = (value: number) => `${Math.round(value)} ms`;
const rate = (value: number) => `${value.toFixed(1)} tok/s`;
console.log(`
Donate page: ${benchModel.name} (${benchModel.embeddingLength} wide, ${benchModel.layers} layers, F32), ${rounds} rounds, ${maxTokens} tokens, Chromium ${browser.version()}

| load | page ready to choose (median) | page load to serving (median) |
|---|---|---|
| first visit, empty cache | ${ms(median(cold.listed))} | ${ms(median(cold.ready))} |
| again, model cached | ${ms(median(warm.listed))} | ${ms(median(warm.ready))} |

| decoder, streamed through the edge | median tok/s | runs |
|---|---|---|
| tab, wllama, 1 thread | ${rate(median(oneThread))} | ${oneThread.map((v) => v.toFixed(1)).join(", ")} |
| tab, wllama, 2 threads | ${rate(median(twoThreads))} | ${twoThreads.map((v) => v.toFixed(1)).join(", ")} |
| native agent, node-llama-cpp, 1 thread | ${rate(median(native))} | ${native.map((v) => v.toFixed(1)).join(", ")} |

2 threads vs 1: ${(median(twoThreads) / median(oneThread)).toFixed(2)}×; wllama 1 thread vs native: ${(median(oneThread) / median(native)).toFixed(2)}×
`);

await browser.close();
await edge.dispose();
await files.close();
