/**
 * Where `auto` (balanced) starts on a three-rung fabric of generated models, over
 * fresh fabrics (issue 14): the speeds agents measure at load are noisy on small
 * machines, and the start rung must not follow them.
 *
 * Each run starts a real edge (workerd, as `wrangler dev` runs it) and three agents,
 * one per rung: rung-tiny (165k parameters), rung-mid (493k) and rung-small (1.1M).
 * Once each agent has reported its measured speed (or after SPEED_WAIT_MS), it reads
 * the catalog from /v1/status and sends the same `auto` prompt; the start rung is the
 * first attempt in the answer's trace. The same catalog snapshot is replayed through
 * startRung with speeds as measured (SPEEDS_AS_MEASURED, the rule before issue 14)
 * and with the noise discounted (SPEED_NOISE), so one set of runs shows both rules on
 * the same speeds; the edge's own start shows the tree's rule live.
 *
 *   npx tsx tools/bench/start-rung-stability.ts
 *   RUNS=12 npx tsx tools/bench/start-rung-stability.ts
 *
 * RUNS: fresh fabrics (default 6). Figures go to .cache/bench/start-rung-stability.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CatalogEntry } from "../../shared/routing/catalog.ts";
import { DEFAULT_POLICY } from "../../shared/routing/policy.ts";
import { SPEED_NOISE, SPEEDS_AS_MEASURED, startRung } from "../../shared/routing/profiles.ts";
import { rungOf, startFabric, testModel } from "../../tests/e2e/harness/fabric.ts";
import { modelCache, repoRoot } from "../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../gguf/make-test-model.ts";
import { markdownTable } from "./suite/markdown-table.ts";

const RUNS = Number(process.env.RUNS ?? 6);
const SPEED_WAIT_MS = Number(process.env.SPEED_WAIT_MS ?? 30_000);

/** Between rung-tiny and rung-small in size, with rung-tiny's 2048-token context. */
const MID = { name: "rung-mid", embeddingLength: 96, layers: 3, heads: 4, contextLength: 2048, seed: 4, outputScale: 1 };
const request = { promptTokens: 4, maxTokens: 8 };

interface Run {
  speeds: Record<string, number>;
  /** The rung the edge started on, from the answer's trace. */
  live: string;
  preRouted: string[];
  /** startRung on the same catalog: speeds as measured, and with the noise discounted. */
  asMeasured: string;
  withNoise: string;
}

const [tiny, mid, small] = await Promise.all([testModel("tiny"), ensureTestModel(MID, modelCache), testModel("small")]);
const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const started = Date.now();
  await using fabric = await startFabric({
    agents: [
      { name: "agent-tiny", models: [tiny] },
      { name: "agent-mid", models: [mid] },
      { name: "agent-small", models: [small] },
    ],
  });
  const catalog = await measuredCatalog(fabric.url);
  const ladder = [...catalog].sort((a, b) => a.quality.score - b.quality.score || a.parameters - b.parameters);
  const answer = await fabric.client.chat.completions.create({
    model: "auto",
    messages: [{ role: "user", content: "Hello there" }],
    max_tokens: request.maxTokens,
    temperature: 0,
  });
  const trace = rungOf(answer);
  const at = (index: number) => ladder[index]?.id ?? "?";
  const run: Run = {
    speeds: Object.fromEntries(ladder.map((e) => [e.id, Math.round(Math.max(0, ...e.nodes.map((n) => n.tokensPerSecond)))])),
    live: trace.attempts[0]?.model ?? "?",
    preRouted: trace.preRouted ?? [],
    asMeasured: at(startRung(ladder, DEFAULT_POLICY.profiles.balanced, request, SPEEDS_AS_MEASURED)),
    withNoise: at(startRung(ladder, DEFAULT_POLICY.profiles.balanced, request, SPEED_NOISE)),
  };
  runs.push(run);
  console.log(`run ${i + 1}/${RUNS} (${Math.round((Date.now() - started) / 1000)} s): ${JSON.stringify(run)}`);
}

/** The catalog once every node has a measured speed, or as it stands after SPEED_WAIT_MS. */
async function measuredCatalog(url: string): Promise<CatalogEntry[]> {
  const deadline = Date.now() + SPEED_WAIT_MS;
  for (;;) {
    const response = await fetch(`${url}/v1/status`, { headers: { authorization: "Bearer not-needed-locally" } });
    const { catalog } = (await response.json()) as { catalog: CatalogEntry[] };
    const measured = catalog.length === 3 && catalog.every((e) => e.nodes.every((n) => n.tokensPerSecond > 0));
    if (measured || Date.now() > deadline) return catalog;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ids = Object.keys(runs[0]?.speeds ?? {});
const header = ["run", ...ids.map((id) => `${id} tok/s`), "edge started on", "as measured (before)", "noise discounted (after)"];
const rows = runs.map((r, i) => [i + 1, ...ids.map((id) => r.speeds[id] ?? 0), r.live, r.asMeasured, r.withNoise]);
console.log(`\n${markdownTable(header, rows)}`);
const off = (pick: (r: Run) => string) => runs.filter((r) => pick(r) !== ids[0]).length;
console.log(
  `\nstarted above ${ids[0]}: edge ${off((r) => r.live)}/${RUNS}, as measured ${off((r) => r.asMeasured)}/${RUNS}, with the noise discounted ${off((r) => r.withNoise)}/${RUNS}`,
);
await mkdir(join(repoRoot, ".cache", "bench"), { recursive: true });
await writeFile(join(repoRoot, ".cache", "bench", "start-rung-stability.json"), `${JSON.stringify({ runs }, null, 2)}\n`);
