/**
 * How long a rung-agent takes from spawn to joined, phase by phase, idle and
 * with the CPU busy: a restarted agent is capacity the fabric lacks until it
 * joins, so this is how fast the fabric heals.
 *
 * A real edge (workerd, as `wrangler dev` runs it) on loopback and real agent
 * processes serving a generated model with one thread, as the tests run them.
 * The phases come from the agent's own JSON log lines (millisecond times), so
 * nothing in the agent is instrumented for the benchmark. "Busy" is a second
 * agent decoding long answers through the same edge without pause.
 *
 *   npx tsx tools/bench/agent-join-time.ts
 *   COMPARE_WITH=../rung-before RUNS=9 CONDITIONS=busy npx tsx tools/bench/agent-join-time.ts
 *
 * RUNS: joins per condition and agent (default 7). MODEL: tiny, small or bench (default
 * small). CONDITIONS: idle, busy or both (default idle,busy). BUSY_THREADS: the load
 * agent's threads (default 2, both cores of the machine this was written on).
 * COMPARE_WITH: another checkout (its node_modules installed), e.g. of an earlier commit,
 * whose agent joins in turn with this tree's, so both see the same load.
 * Figures go to .cache/bench/agent-join-time.json.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { AgentProcess } from "../../tests/e2e/harness/agent-process.ts";
import { type LocalEdge, startLocalEdge } from "../../tests/e2e/harness/local-edge.ts";
import { modelCache, repoRoot } from "../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../gguf/make-test-model.ts";
import { TEST_MODELS } from "../gguf/test-model-presets.ts";
import { benchModel } from "./bench-model.ts";
import { cpuMs } from "./harness/process-stats.ts";
import { markdownTable } from "./suite/markdown-table.ts";
import { percentile } from "./suite/stats.ts";

const RUNS = Number(process.env.RUNS ?? 7);
const MODEL = process.env.MODEL ?? "small";
const CONDITIONS = (process.env.CONDITIONS ?? "idle,busy").split(",") as Condition[];
const BUSY_THREADS = Number(process.env.BUSY_THREADS ?? 2);
const JOIN_TIMEOUT_MS = 120_000;

type Condition = "idle" | "busy";

/** Whose agent joins: label and checkout. */
const agents = [
  ...(process.env.COMPARE_WITH ? [{ label: "compared", root: resolve(process.env.COMPARE_WITH) }] : []),
  { label: "this tree", root: repoRoot },
];

/** Milliseconds from spawn to each mark; the probe's mark is absent where the agent probes before joining. */
interface Join {
  imported: number;
  llamaReady: number;
  loaded: number;
  joined: number;
  /** CPU time the agent (and its ended children: node-llama-cpp's binary test) had used when it joined, ms. */
  cpuToJoined: number;
  /** The background speed probe's result, logged after joining. */
  measured?: number;
}

/** A row of the table: its name and its figure from one join's marks. */
const PHASES: { name: string; of: (j: Join) => number | undefined }[] = [
  { name: "process start + imports", of: (j) => j.imported },
  { name: "llama.cpp init + memory plan", of: (j) => j.llamaReady - j.imported },
  { name: "model load (+ speed probe, where before joining)", of: (j) => j.loaded - j.llamaReady },
  { name: "connect + hello + welcome", of: (j) => j.joined - j.loaded },
  { name: "**spawn to joined**", of: (j) => j.joined },
  { name: "agent CPU time to joined", of: (j) => j.cpuToJoined },
  { name: "joined to speed reported (probe after joining)", of: (j) => (j.measured === undefined ? undefined : j.measured - j.joined) },
];

const presets = { tiny: TEST_MODELS.tiny, small: TEST_MODELS.small, bench: benchModel } as const;
const preset = presets[MODEL as keyof typeof presets];
if (!preset) throw new Error(`MODEL must be one of ${Object.keys(presets).join(", ")}`);
const modelPath = await ensureTestModel(preset, modelCache);

const edge = await startLocalEdge();
/** Joins per `${condition} ${agent label}`. */
const results: Record<string, Join[]> = {};
const columns = CONDITIONS.flatMap((condition) => agents.map((agent) => `${condition} ${agent.label}`));
try {
  // One join each first, not counted: tsx compiles the agent's sources into its cache on the first start.
  for (const agent of agents) await timeJoin(edge, agent.root, `warm-up-${agents.indexOf(agent)}`);
  for (const condition of CONDITIONS) {
    const load = condition === "busy" ? await startLoad(edge) : undefined;
    try {
      for (let run = 0; run < RUNS; run++) {
        // In turns, so a change in the machine's load hits every agent alike.
        for (const [index, agent] of agents.entries()) {
          const column = `${condition} ${agent.label}`;
          results[column] ??= [];
          results[column].push(await timeJoin(edge, agent.root, `${condition}-${index}-${run}`));
        }
      }
    } finally {
      await load?.stop();
    }
  }
} finally {
  await edge.dispose();
}

const median = (values: (number | undefined)[]) => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? "–" : percentile(known, 50).toFixed(0);
};
const range = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
console.log(
  `\n${preset.name}, threads 1, ${RUNS} joins each, median ms (busy: an agent with ${BUSY_THREADS} thread(s) decoding two streams)`,
);
if (process.env.COMPARE_WITH) console.log(`compared: ${resolve(process.env.COMPARE_WITH)}`);
console.log(
  `\n${markdownTable(
    ["phase", ...columns],
    PHASES.map((phase) => [phase.name, ...columns.map((c) => median(results[c]!.map(phase.of)))]),
  )}`,
);
console.log(`\nspawn to joined, min–max: ${columns.map((c) => `${c} ${range(results[c]!.map((j) => j.joined))}`).join(", ")}`);

const git = (...args: string[]) => {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // A copy of the tree without its .git (made with git archive).
    return undefined;
  }
};
// The agent's code is what this measures: whether it had uncommitted changes.
const agentChanges = git("status", "--porcelain", "--", "native-node", "shared");
const record = {
  date: new Date().toISOString(),
  commit: git("rev-parse", "--short", "HEAD"),
  dirty: agentChanges === undefined ? undefined : agentChanges !== "",
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), loadavg: loadavg() },
  parameters: { runs: RUNS, model: preset.name, conditions: CONDITIONS, busyThreads: BUSY_THREADS, agents },
  joins: results,
};
await mkdir(join(repoRoot, ".cache", "bench"), { recursive: true });
await writeFile(join(repoRoot, ".cache", "bench", "agent-join-time.json"), `${JSON.stringify(record, null, 2)}\n`);

/**
 * Spawns the agent of the checkout at `root` (as the tests start one: threads 1), waits until
 * it joined, and also reported its measured speed where it probes after joining, then kills it.
 */
async function timeJoin(edge: LocalEdge, root: string, name: string): Promise<Join> {
  const bin = join(root, "native-node", "bin", "rung-agent.js");
  const args = ["--edge", edge.url, "--name", name, "--threads", "1", "--log-format", "json", "--model", modelPath];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  const output: string[] = [];
  child.stderr.on("data", (data: Buffer) => output.push(data.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const deadline = spawnedAt + JOIN_TIMEOUT_MS;
    let marks = marksOf(output, spawnedAt);
    let cpuToJoined: number | undefined;
    while (!(marks.joined !== undefined && (marks.measured !== undefined || !marks.probesAfterJoin))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent ${name} did not join:\n${output.join("")}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      marks = marksOf(output, spawnedAt);
      // Read within 10 ms of the joined line, before a probe after joining adds its share.
      if (marks.joined !== undefined) cpuToJoined ??= cpuMs(child.pid!, { children: true });
    }
    cpuToJoined ??= cpuMs(child.pid!, { children: true });
    const { imported, llamaReady, loaded, joined, measured } = marks;
    if (imported === undefined || llamaReady === undefined || loaded === undefined) {
      throw new Error(`agent ${name} joined without logging every phase:\n${output.join("")}`);
    }
    const health = (await (await fetch(`${edge.url}/health`)).json()) as { nodes: string[] };
    if (!health.nodes.includes(name)) throw new Error(`agent ${name} logged joined, but the edge does not list it`);
    return { imported, llamaReady, loaded, joined, cpuToJoined, ...(measured !== undefined && { measured }) };
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

/** The agent's log lines that end each phase, as ms since spawn. */
function marksOf(output: readonly string[], spawnedAt: number) {
  const id = preset.name;
  const marks: Partial<Join> & { probesAfterJoin?: boolean } = {};
  for (const line of output.join("").split("\n")) {
    if (!line.startsWith("{")) continue;
    const { time, msg } = JSON.parse(line) as { time: string; msg: string };
    const at = Date.parse(time) - spawnedAt;
    if (msg.startsWith("loading ")) marks.imported ??= at;
    else if (msg.startsWith(`${id}: `) && msg.includes(" slot")) marks.llamaReady ??= at;
    else if (msg.startsWith("backend: ")) marks.loaded ??= at;
    else if (msg.startsWith(`serving ${id}: `)) marks.probesAfterJoin = msg.endsWith("speed not measured");
    else if (msg.startsWith("joined as ")) marks.joined ??= at;
    else if (msg.startsWith(`${id}: measured `)) marks.measured ??= at;
  }
  return marks;
}

/** A second agent decoding without pause: two streams of long greedy answers at a time, each restarted when it ends. */
async function startLoad(edge: LocalEdge): Promise<{ stop(): Promise<void> }> {
  const agent = new AgentProcess({
    edge: edge.url,
    name: "load",
    models: [`load=${modelPath}`],
    extraArgs: ["--threads", String(BUSY_THREADS)],
  });
  await agent.joined(["load"]);
  let stopped = false;
  const stream = async () => {
    while (!stopped) {
      const response = await fetch(`${edge.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "load",
          stream: true,
          max_tokens: 1024,
          messages: [{ role: "user", content: "Tell a long story." }],
        }),
      });
      await response.arrayBuffer();
    }
  };
  const streams = [stream(), stream()];
  // Let the decoding settle before the first timed join.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return {
    async stop() {
      stopped = true;
      await Promise.all(streams);
      await agent.stop();
    },
  };
}
