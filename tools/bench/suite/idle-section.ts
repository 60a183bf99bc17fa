import { IdleNodes } from "../harness/idle-nodes.ts";
import { cpuMsWhenQuiet, rssBytes } from "../harness/process-stats.ts";
import { timedChat } from "../harness/timed-request.ts";
import { type Edge, INSTANT_MODEL } from "./bench-rig.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, envNumbers, progress, type Section } from "./section.ts";
import { count, ms, percentile, signed } from "./stats.ts";

interface Level {
  /** Idle nodes asked for, and joined. */
  nodes: number;
  connected: number;
  connectSeconds: number;
  p50: number;
  p99: number;
  rssBytes: number;
  /** workerd CPU time for one heartbeat from every idle node, ms; undefined at 0 nodes. */
  heartbeatCpuMs: number | undefined;
}

/**
 * What idle nodes cost an edge: fleets of 100 to 5,000 connected nodes that say hello with one
 * slot and a model no request names, then only heartbeat. Per level, for floor and Rung: whole
 * TOKENS-token requests to the instant node (interleaved) against the same with no idle nodes,
 * the workerd process's CPU time for one heartbeat round, and its resident memory per socket.
 */
export const idleSection: Section = {
  name: "idle",
  title: "Idle fabric: the cost of connected, silent nodes",
  async run(rig) {
    const counts = envNumbers("IDLE_NODES", [100, 1000, 5000]);
    const requests = envNumber("IDLE_REQUESTS", 100);
    const tokens = envNumber("TOKENS", 8);
    const connectTimeoutMs = envNumber("IDLE_CONNECT_SECONDS", 120) * 1000;
    // 0: no compression, as rung-agent's sockets; 1: they offer permessage-deflate, as a browser tab's does.
    const deflate = process.env.IDLE_DEFLATE === "1";
    const edges = await rig.edges();
    for (const edge of edges) if (edge.pid === undefined) throw new Error(`the ${edge.label} edge's workerd process was not found`);
    const fleets = await Promise.all(edges.map((edge) => IdleNodes.start(edge.url, deflate)));
    const levels = new Map<Edge, Level[]>(edges.map((edge) => [edge, []]));
    const agreed = new Set<string>();
    try {
      for (const nodes of [0, ...counts]) {
        progress(`idle: ${nodes} idle nodes`);
        const joined = [];
        for (const [i, edge] of edges.entries()) {
          const started = Date.now();
          const { connected, extensions } = await fleets[i]!.connect(nodes, connectTimeoutMs);
          if (connected > 0) agreed.add(`${edge.label}: ${extensions || "none"}`);
          joined.push({ connected, connectSeconds: (Date.now() - started) / 1000 });
          await cpuMsWhenQuiet(edge.pid!);
        }
        const latencies = edges.map(() => [] as number[]);
        for (let round = 0; round < requests; round++) {
          for (const [i, edge] of edges.entries()) {
            latencies[i]!.push((await timedChat({ url: edge.url }, { model: INSTANT_MODEL, stream: false, max_tokens: tokens })).totalMs);
          }
        }
        for (const [i, edge] of edges.entries()) {
          const rss = rssBytes(edge.pid!);
          const heartbeatCpuMs = nodes > 0 ? await heartbeatCpu(edge.pid!, fleets[i]!) : undefined;
          const { connected, connectSeconds } = joined[i]!;
          const [p50, p99] = [percentile(latencies[i]!, 50), percentile(latencies[i]!, 99)];
          levels.get(edge)!.push({ nodes, connected, connectSeconds, p50, p99, rssBytes: rss, heartbeatCpuMs });
        }
      }
    } finally {
      await Promise.all(fleets.map((fleet) => fleet.close()));
      // The edges see thousands of sockets close: let that work finish before the next section.
      for (const edge of edges) await cpuMsWhenQuiet(edge.pid!, 500, 60_000);
    }
    const rows = edges.flatMap((edge) => {
      const [base, ...rest] = levels.get(edge)!;
      return rest.map((level) => [
        edge.label,
        `${count(level.connected)}${level.connected < level.nodes ? ` of ${count(level.nodes)}` : ""}`,
        level.connectSeconds.toFixed(1),
        `${ms(level.p50)} (${signed(level.p50 - base!.p50)})`,
        `${ms(level.p99)} (${signed(level.p99 - base!.p99)})`,
        ms(level.heartbeatCpuMs!),
        ((level.heartbeatCpuMs! * 1000) / level.connected).toFixed(1),
        ((level.rssBytes - base!.rssBytes) / level.connected / 1024).toFixed(0),
      ]);
    });
    const bases = edges.map((edge) => `${edge.label} ${ms(levels.get(edge)![0]!.p50)} / ${ms(levels.get(edge)![0]!.p99)} ms`);
    const markdown = [
      `Idle nodes (one slot, models idle-0..idle-9) joined in parallel batches of 100 from a separate process; ${requests} whole ${tokens}-token requests per edge and level to the instant node, floor and Rung interleaved.`,
      `With no idle nodes, p50 / p99: ${bases.join("; ")}. In brackets: added over that.`,
      "CPU: utime+stime of the edge's workerd process (/proc/<pid>/stat, 10 ms ticks) from before one heartbeat frame per idle node until its CPU counter stood still for 300 ms.",
      "Memory: VmRSS of that process (/proc/<pid>/status) with the nodes connected, less the same with none, per node.",
      `Sockets ${deflate ? "offer permessage-deflate, as browser tabs' do (IDLE_DEFLATE=1)" : "offer no compression, as rung-agent's do"}; extensions agreed: ${[...agreed].join(", ") || "none"}.`,
      "",
      markdownTable(
        [
          "edge",
          "idle nodes",
          "join (s)",
          "request p50 (ms)",
          "request p99 (ms)",
          "heartbeat round CPU (ms)",
          "CPU per heartbeat (µs)",
          "memory per node (KiB)",
        ],
        rows,
      ),
    ].join("\n");
    const figures = Object.fromEntries(edges.map((edge) => [edge.label, levels.get(edge)]));
    return { markdown, parameters: { counts, requests, tokens, connectTimeoutMs, deflate }, figures };
  },
};

/** CPU time the edge's process spends on one heartbeat from every idle node. */
async function heartbeatCpu(pid: number, fleet: IdleNodes): Promise<number> {
  const before = await cpuMsWhenQuiet(pid);
  await fleet.heartbeat();
  return (await cpuMsWhenQuiet(pid)) - before;
}
