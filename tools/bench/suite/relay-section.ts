import { performance } from "node:perf_hooks";
import { FrameSink } from "../harness/frame-sink.ts";
import { InstantNode } from "../harness/instant-node.ts";
import { timedChat } from "../harness/timed-request.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, progress, type Section } from "./section.ts";
import { count, percentile, times } from "./stats.ts";

/** A way tokens travel from the node to a reader: through an edge, or straight into the sink. */
interface RelayPath {
  label: string;
  /** Runs `streams` jobs of `tokens` tokens at once for the node serving `model`. */
  run(model: string, streams: number, tokens: number): Promise<unknown>;
  /** Tokens per frame the node of each model actually sends there (1 where the edge speaks < 1.4). */
  framing: Map<string, number>;
}

/**
 * Tokens per second through the edge for long streams, one and eight at once, with one-token
 * frames and batched ones. The source is an in-process node that emits every frame of a job
 * at once (an agent process would measure its own scheduling, not the relay). "Directly": the
 * same node into a loopback WebSocket sink with no edge, its own ceiling. Median of ROUNDS.
 */
export const relaySection: Section = {
  name: "relay",
  title: "Relay: tokens per second through one pool",
  async run(rig) {
    const tokens = envNumber("RELAY_TOKENS", 2000);
    const rounds = envNumber("RELAY_ROUNDS", 3);
    const batch = envNumber("RELAY_FRAME", 16);
    const framings = [1, batch];
    const sink = await FrameSink.start();
    const nodes: InstantNode[] = [];
    // Each path gets its own node per framing, announcing a model of its own, so no other node (the echo agent) takes these jobs.
    const join = async (url: string) => {
      const framing = new Map<string, number>();
      for (const tokensPerFrame of framings) {
        const node = await InstantNode.join(url, { model: `relay-${tokensPerFrame}`, tokensPerFrame });
        nodes.push(node);
        framing.set(`relay-${tokensPerFrame}`, node.tokensPerFrame);
      }
      return framing;
    };
    try {
      const paths: RelayPath[] = [
        {
          label: "instant node directly (ws sink)",
          framing: await join(sink.url),
          run: (model, streams, n) => all(streams, () => sink.job(model, n)),
        },
      ];
      for (const edge of await rig.edges()) {
        const run = (model: string, streams: number, n: number) =>
          all(streams, () => timedChat({ url: edge.url }, { model, stream: true, max_tokens: n }));
        paths.push({ label: edge.label, framing: await join(edge.url), run });
      }
      const cases = framings.flatMap((framing) => [1, 8].map((streams) => ({ model: `relay-${framing}`, framing, streams })));
      const rates = paths.map(() => cases.map(() => [] as number[]));
      progress(`relay: a warm-up and ${rounds} rounds of ${cases.length} cases × ${paths.length} paths, ${tokens} tokens a stream`);
      for (let round = -1; round < rounds; round++) {
        for (const [p, path] of paths.entries()) {
          for (const [c, { model, streams }] of cases.entries()) {
            const started = performance.now();
            await path.run(model, streams, round < 0 ? 100 : tokens);
            if (round >= 0) rates[p]![c]!.push((streams * tokens * 1000) / (performance.now() - started));
          }
        }
      }
      const median = rates.map((byCase) => byCase.map((samples) => percentile(samples, 50)));
      const header = [
        "path",
        ...cases.map(
          ({ framing, streams }) => `${framing === 1 ? "1-token" : `${framing}-token`} frames, ${streams} stream${streams > 1 ? "s" : ""}`,
        ),
      ];
      const rows = paths.map((path, p) => [
        path.label,
        ...cases.map(({ model }, c) => `${count(median[p]![c]!)}${framingNote(path, model)}`),
      ]);
      const [direct, floor, rung] = median;
      rows.push(["Rung / floor", ...cases.map((_, c) => times(rung![c]! / floor![c]!))]);
      rows.push(["Rung / directly", ...cases.map((_, c) => times(rung![c]! / direct![c]!))]);
      const markdown = [
        `Tokens per second (all streams together), ${tokens} tokens a stream, median of ${rounds} rounds; through an edge: streamed SSE read to [DONE].`,
        "The source is an in-process node answering every job at once; an agent process would add its own scheduling to the figure.",
        "",
        markdownTable(header, rows),
      ].join("\n");
      const figures = paths.map((path, p) => ({
        path: path.label,
        cases: cases.map((c, i) => ({ ...c, tokensPerFrame: path.framing.get(c.model), tokensPerSecond: median[p]![i] })),
      }));
      return { markdown, parameters: { tokens, rounds, framings }, figures };
    } finally {
      for (const node of nodes) node.close();
      await sink.close();
    }
  },
};

function all(streams: number, job: () => Promise<unknown>): Promise<unknown[]> {
  return Promise.all(Array.from({ length: streams }, job));
}

/** Says so where an edge made the node send fewer tokens a frame than the case asks. */
function framingNote(path: RelayPath, model: string): string {
  const asked = Number(model.split("-")[1]);
  const sent = path.framing.get(model) ?? asked;
  return sent === asked ? "" : ` (${sent}-token frames: edge below 1.4)`;
}
