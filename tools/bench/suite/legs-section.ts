import { performance } from "node:perf_hooks";
import { InstantNode } from "../harness/instant-node.ts";
import { timedChat } from "../harness/timed-request.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, progress, type Section } from "./section.ts";
import { ms, percentile, signed } from "./stats.ts";

/** The in-process node's model on both edges: no other node (the echo agent) takes these jobs. */
const LEGS_MODEL = "legs-instant";

interface Legs {
  /** Request sent to the job's arrival at the node, ms. */
  toNode: number[];
  /** The job's arrival at the node (which answers it at once) to the answer's last byte, ms. */
  fromNode: number[];
  total: number[];
}

type Median = Record<keyof Legs, number>;
const p50 = (values: number[]) => percentile(values, 50);

/**
 * Where a sequential request's time goes: from the client to the node (the Worker, the hop
 * to the pool, admission, the plan and the dispatch) and from the node back (frames, the
 * answer's body, the hop back). The node runs in this process, so one clock times both
 * ends; it answers every job at once, so what is left is the edges' and the loopback's.
 */
export const legsSection: Section = {
  name: "legs",
  title: "Legs: to the node and back, one request at a time",
  async run(rig) {
    const rounds = envNumber("LEGS_ROUNDS", 300);
    const tokens = envNumber("TOKENS", 8);
    const edges = await rig.edges();
    // When the request's job reached the node, and how many jobs came for it (a retry or hedge would skew the leg).
    let arrived = Number.NaN;
    let jobs = 0;
    const onJob = () => {
      if (++jobs === 1) arrived = performance.now();
    };
    const nodes: InstantNode[] = [];
    try {
      for (const edge of edges) nodes.push(await InstantNode.join(edge.url, { model: LEGS_MODEL, onJob }));
      const shapes = [false, true];
      const legs = edges.map(() => shapes.map((): Legs => ({ toNode: [], fromNode: [], total: [] })));
      const warmup = Math.min(30, rounds);
      progress(`legs: ${warmup} warm-up and ${rounds} measured rounds, floor and Rung in turn`);
      for (let round = -warmup; round < rounds; round++) {
        for (const [e, edge] of edges.entries()) {
          for (const [s, stream] of shapes.entries()) {
            jobs = 0;
            const sent = performance.now();
            const { totalMs } = await timedChat({ url: edge.url }, { model: LEGS_MODEL, stream, max_tokens: tokens });
            if (round < 0) continue;
            if (jobs !== 1) throw new Error(`${edge.label}: ${jobs} jobs reached the node for one request, not 1`);
            const leg = legs[e]![s]!;
            leg.toNode.push(arrived - sent);
            leg.fromNode.push(sent + totalMs - arrived);
            leg.total.push(totalMs);
          }
        }
      }
      // Medians once, for the table and the record alike.
      const medians = legs.map((byShape) =>
        byShape.map((leg) => ({ toNode: p50(leg.toNode), fromNode: p50(leg.fromNode), total: p50(leg.total) })),
      );
      const rows = shapes.flatMap((stream, s) => {
        const [floor, rung] = [medians[0]![s]!, medians[1]![s]!];
        const shape = stream ? "streamed" : "whole";
        const row = (label: string, m: Median) => [`${label}, ${shape}`, ms(m.toNode), ms(m.fromNode), ms(m.total)];
        const added = (key: keyof Median) => signed(rung[key] - floor[key]);
        return [
          row(edges[0]!.label, floor),
          row(edges[1]!.label, rung),
          [`Rung over the floor, ${shape}`, added("toNode"), added("fromNode"), added("total")],
        ];
      });
      const markdown = [
        `${rounds} rounds, ${tokens} tokens, whole then streamed, floor then Rung; p50 in ms. The node is in the bench's own process (one clock), answering each job at once.`,
        "",
        markdownTable(["path", "sent → job at the node", "job at the node → last byte", "total"], rows),
      ].join("\n");
      const figures = edges.map((edge, e) => ({
        edge: edge.label,
        ...Object.fromEntries(shapes.map((stream, s) => [stream ? "streamed" : "whole", medians[e]![s]!])),
      }));
      return { markdown, parameters: { rounds, tokens, warmup }, figures };
    } finally {
      for (const node of nodes) node.close();
    }
  },
};
