// Where does the edge spend its CPU? Runs the deploy bundle in workerd (as the suite does)
// with its V8 inspector open, one instant node, and chat completions, half streamed, from
// CONCURRENCY clients at once; records a CPU profile of the isolate (the Worker and the
// pool's Durable Object share it) and prints where the busy time went, per source file and
// per function, mapped back through the bundle's source map. The profile itself goes to
// .cache/bench/<worker>.cpuprofile, for Chrome DevTools' Performance panel.
//
//   npm run bench:profile      (REQUESTS=600 TOKENS=8 CONCURRENCY=1 FRAME=1 FLOOR=1 TOP=25)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../tests/e2e/harness/paths.ts";
import { CpuProfiler } from "./harness/cpu-profiler.ts";
import { InstantNode } from "./harness/instant-node.ts";
import { type ProfileRow, summarizeProfile } from "./harness/profile-summary.ts";
import { timedChat } from "./harness/timed-request.ts";
import { startWorkerdBundle } from "./harness/workerd-bundle.ts";
import { markdownTable } from "./suite/markdown-table.ts";

const requests = Number(process.env.REQUESTS ?? 600);
const tokens = Number(process.env.TOKENS ?? 8);
const concurrency = Number(process.env.CONCURRENCY ?? 1);
const tokensPerFrame = Number(process.env.FRAME ?? 1);
const top = Number(process.env.TOP ?? 25);
const worker = process.env.FLOOR === "1" ? "floor" : "rung";
const config = join(repoRoot, worker === "floor" ? "tools/bench/floor/wrangler.toml" : "wrangler.toml");
const inspectorPort = 9230 + Math.floor(Math.random() * 500);
const model = "bench-instant";

const edge = await startWorkerdBundle(config, { inspectorPort });
const node = await InstantNode.join(edge.url, { model, tokensPerFrame });
try {
  const ask = (i: number) => timedChat({ url: edge.url }, { model, stream: i % 2 === 1, max_tokens: tokens });
  const load = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await ask(next++);
      }),
    );
  };
  // Warm the isolate, the object and the JIT first: a profile of compilation says nothing.
  await load(100);
  const profiler = await CpuProfiler.attach(inspectorPort);
  await profiler.start();
  const started = performance.now();
  await load(requests);
  const seconds = (performance.now() - started) / 1000;
  const profile = await profiler.stop();
  profiler.close();
  const path = join(repoRoot, ".cache", "bench", `${worker}.cpuprofile`);
  writeFileSync(path, JSON.stringify(profile));

  const summary = summarizeProfile(profile, edge.script);
  const share = (ms: number) => `${((ms / summary.busyMs) * 100).toFixed(1)}%`;
  const perRequest = (ms: number) => (ms / requests).toFixed(3);
  const javascript = summary.files.filter((r) => !r.where.startsWith("(")).reduce((sum, r) => sum + r.self, 0);
  const table = (rows: ProfileRow[], key: "self" | "total", label: string) =>
    markdownTable(
      [label, "self", "with callees", "self ms / request"],
      [...rows]
        .sort((a, b) => b[key] - a[key])
        .slice(0, top)
        .map((r) => [r.where, share(r.self), share(r.total), perRequest(r.self)]),
    );
  console.log(
    `\n${worker}: ${requests} requests (${tokens} tokens, half streamed, ${tokensPerFrame} a frame), ${concurrency} at once, in ${seconds.toFixed(1)} s`,
  );
  console.log(
    `the isolate's thread outside (idle): ${perRequest(summary.busyMs)} ms a request, of it ${perRequest(javascript)} ms in JavaScript files (the rest: the runtime's own work, natives and GC)\n`,
  );
  console.log(`${table(summary.files, "self", "source file")}\n`);
  console.log(`${table(summary.functions, "self", "function (by its own time)")}\n`);
  console.log(`${table(summary.functions, "total", "function (with what it calls)")}\n`);
  console.log(`profile: ${path}`);
} finally {
  node.close();
  await edge.dispose();
}
