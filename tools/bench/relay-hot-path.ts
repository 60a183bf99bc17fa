// The edge's own hot path, without a model: the deploy bundle run by Miniflare
// directly (workerd, no `wrangler dev` proxy in front), one node on a loopback
// WebSocket that answers every job at once, and requests one after another.
// Prints p50/p95 of whole and streamed answers and the relay rate of one long
// stream; nothing here is a test. Compare two trees by running it in each.
//
//   npm run bench:relay            (ROUNDS=400 CHUNKS=8 LONG=2000 to change the run)
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Job, PROTOCOL_VERSION } from "@rung/shared/protocol";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import WebSocket from "ws";
import { repoRoot } from "../../tests/e2e/harness/paths.ts";

const rounds = Number(process.env.ROUNDS ?? 400);
const chunks = Number(process.env.CHUNKS ?? 8);
const longChunks = Number(process.env.LONG ?? 2000);
const model = "bench-instant";

const outdir = join(repoRoot, ".cache", "bench", "bundle");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(repoRoot, ".cache", "xdg") };
execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], { cwd: repoRoot, env, stdio: "ignore" });
const { workerOptions } = unstable_getMiniflareWorkerOptions(join(repoRoot, "wrangler.toml"));
const mf = new Miniflare({
  ...workerOptions,
  host: "127.0.0.1",
  port: 0,
  modules: true,
  scriptPath: join(outdir, "index.js"),
  modulesRoot: outdir,
} as ConstructorParameters<typeof Miniflare>[0]);
const base = (await mf.ready).origin;

// The node: answers every job at once, one frame per chunk, as an agent streams them.
const node = new WebSocket(`${base.replace(/^http/, "ws")}/v1/nodes/connect`);
await new Promise((resolve, reject) => node.once("open", resolve).once("error", reject));
const send = (frame: object) => node.send(JSON.stringify(frame));
node.on("message", (data) => {
  const frame = JSON.parse(String(data)) as { type: string } & Partial<Job>;
  if (frame.type !== "job") return;
  const job = frame as Job;
  const count = job.sampling.maxTokens ?? chunks;
  for (let seq = 0; seq < count; seq++) send({ type: "chunk", jobId: job.jobId, seq, text: "tok ", confidence: 0.99 });
  send({ type: "done", jobId: job.jobId, chunks: count, finishReason: "stop", usage: { promptTokens: 5, completionTokens: count } });
});
const welcomed = new Promise((resolve) => node.once("message", resolve));
send({
  type: "hello",
  protocol: PROTOCOL_VERSION,
  node: { name: "bench-node", kind: "native", engine: "echo", slots: 64 },
  models: [{ id: model, parameters: 1, quantization: "F32", contextLength: 4096, tokensPerSecond: 1000, slots: 64 }],
});
await welcomed;

async function request(stream: boolean, maxTokens: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream, max_tokens: maxTokens, messages: [{ role: "user", content: "hi" }] }),
  });
  const text = await response.text();
  if (!response.ok || (stream && !text.includes("[DONE]")))
    throw new Error(`bench request failed: ${response.status} ${text.slice(0, 200)}`);
  return performance.now() - started;
}

// Warm up the isolate, the object and the JIT before measuring.
for (let i = 0; i < 50; i++) await request(i % 2 === 0, chunks);
const whole: number[] = [];
const streamed: number[] = [];
// Interleaved, so drift on a noisy machine lands on both equally.
for (let i = 0; i < rounds; i++) {
  whole.push(await request(false, chunks));
  streamed.push(await request(true, chunks));
}
const long: number[] = [];
for (let i = 0; i < 5; i++) long.push(await request(true, longChunks));

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
console.log(`\nrelay hot path: Miniflare (workerd) on the deploy bundle, an instant node, ${rounds} rounds of each, ${chunks} chunks\n`);
console.log("| request | p50 (ms) | p95 (ms) |\n|---|---|---|");
console.log(`| whole answer | ${pct(whole, 0.5).toFixed(2)} | ${pct(whole, 0.95).toFixed(2)} |`);
console.log(`| streamed answer | ${pct(streamed, 0.5).toFixed(2)} | ${pct(streamed, 0.95).toFixed(2)} |`);
console.log(
  `\none stream of ${longChunks} chunks: median ${pct(long, 0.5).toFixed(0)} ms, ${((longChunks / pct(long, 0.5)) * 1000).toFixed(0)} chunks/s`,
);

node.close();
await mf.dispose();
