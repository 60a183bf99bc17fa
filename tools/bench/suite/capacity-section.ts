import autocannon from "autocannon";
import { type Edge, INSTANT_MODEL } from "./bench-rig.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, envNumbers, progress, type Section } from "./section.ts";
import { count, ms, percentile, times } from "./stats.ts";

interface Load {
  /** Latency of every good answer, ms. */
  latencies: number[];
  answers: number;
  seconds: number;
  /** Non-2xx answers, connection errors and timeouts, and answers without every token. */
  failures: number;
}

interface Step {
  connections: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/** A step's p99 more than doubles over the last one's, or throughput rises less than this. */
const BEND_P99 = 2;
const BEND_GROWTH = 1.1;

/**
 * Throughput at fixed concurrency with autocannon (closed loop: each connection sends its next
 * request when the last is answered), whole TOKENS-token answers from the echo agent (256 slots,
 * so slots never limit). Floor and Rung alternate, ROUNDS times each, the first of a pair
 * switching every round; percentiles are over every answer of every round.
 */
export const capacitySection: Section = {
  name: "capacity",
  title: "Capacity: requests per second at fixed concurrency",
  async run(rig) {
    const connections = envNumbers("CONNECTIONS", [1, 8, 32, 128]);
    const seconds = envNumber("CAPACITY_SECONDS", 3);
    const rounds = envNumber("CAPACITY_ROUNDS", 2);
    const tokens = envNumber("TOKENS", 8);
    const edges = await rig.edges();
    const body = JSON.stringify({ model: INSTANT_MODEL, max_tokens: tokens, messages: [{ role: "user", content: "tok " }] });
    const steps = new Map<Edge, Step[]>(edges.map((edge) => [edge, []]));
    progress(`capacity: warm-up, then ${connections.length} steps × ${rounds} rounds × ${edges.length} edges × ${seconds} s`);
    for (const edge of edges) await load(edge, 8, 1, body, tokens);
    for (const connection of connections) {
      const loads = new Map<Edge, Load[]>(edges.map((edge) => [edge, []]));
      for (let round = 0; round < rounds; round++) {
        for (const edge of round % 2 === 0 ? edges : [...edges].reverse())
          loads.get(edge)!.push(await load(edge, connection, seconds, body, tokens));
      }
      for (const edge of edges) steps.get(edge)!.push(stepOf(connection, loads.get(edge)!));
    }
    const [floor, rung] = edges.map((edge) => steps.get(edge)!);
    const rows = connections.map((connection, i) => {
      const f = floor![i]!;
      const r = rung![i]!;
      return [
        connection,
        count(f.requestsPerSecond),
        `${ms(f.p50)} / ${ms(f.p99)}`,
        count(r.requestsPerSecond),
        `${ms(r.p50)} / ${ms(r.p99)}`,
        times(r.requestsPerSecond / f.requestsPerSecond),
        f.failures + r.failures,
      ];
    });
    const bends = edges.map((edge) => `${edge.label}: ${bendOf(steps.get(edge)!)}`);
    const markdown = [
      `autocannon, whole ${tokens}-token answers, ${rounds} × ${seconds} s per edge and step, floor and Rung alternating; latency in ms.`,
      "",
      markdownTable(["connections", "floor req/s", "floor p50 / p99", "Rung req/s", "Rung p50 / p99", "Rung / floor", "failed"], rows),
      "",
      `Where latency bends (p99 more than ${BEND_P99}× the step before, or throughput up less than ${Math.round((BEND_GROWTH - 1) * 100)}%): ${bends.join("; ")}.`,
    ].join("\n");
    const figures = Object.fromEntries(edges.map((edge) => [edge.label, steps.get(edge)]));
    return { markdown, parameters: { connections, seconds, rounds, tokens }, figures };
  },
};

function load(edge: Edge, connections: number, seconds: number, body: string, tokens: number): Promise<Load> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${edge.url}/v1/chat/completions`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        connections,
        duration: seconds,
        timeout: 30,
        // An edge that answers fast and wrong must not look fast.
        verifyBody: (text) => String(text).split("tok ").length - 1 === tokens,
      },
      (error, result) => {
        if (error) return reject(error);
        const failures = result.non2xx + result.errors + result.mismatches;
        resolve({ latencies, answers: result["2xx"] - result.mismatches, seconds: result.duration, failures });
      },
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      if (status === 200) latencies.push(responseTime);
    });
  });
}

function stepOf(connections: number, loads: Load[]): Step {
  const latencies = loads.flatMap((l) => l.latencies);
  const answers = loads.reduce((sum, l) => sum + l.answers, 0);
  const seconds = loads.reduce((sum, l) => sum + l.seconds, 0);
  return {
    connections,
    requestsPerSecond: answers / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: loads.reduce((sum, l) => sum + l.failures, 0),
  };
}

function bendOf(steps: Step[]): string {
  for (let i = 1; i < steps.length; i++) {
    const [before, step] = [steps[i - 1]!, steps[i]!];
    if (step.p99 > BEND_P99 * before.p99) return `at ${step.connections} connections (p99 ${ms(before.p99)} → ${ms(step.p99)} ms)`;
    if (step.requestsPerSecond < BEND_GROWTH * before.requestsPerSecond) {
      return `at ${step.connections} connections (${count(before.requestsPerSecond)} → ${count(step.requestsPerSecond)} req/s)`;
    }
  }
  return "not within these steps";
}
