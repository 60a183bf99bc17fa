import { type ChatTarget, timedChat } from "../harness/timed-request.ts";
import { INSTANT_MODEL, UPSTREAM_MODEL } from "./bench-rig.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, progress, type Section } from "./section.ts";
import { ms, type Spread, signed, spread } from "./stats.ts";

interface Path {
  name: string;
  target: ChatTarget;
  model: string;
}

interface PathFigures {
  path: string;
  whole: Spread;
  streamed: Spread;
  firstToken: Spread;
}

/**
 * Sequential requests, one at a time, through every path in turn, round after round, so
 * drift on a busy machine lands on all of them: whole and streamed answers of TOKENS tokens.
 */
export const overheadSection: Section = {
  name: "overhead",
  title: "Overhead: one request at a time",
  async run(rig) {
    const rounds = envNumber("OVERHEAD_ROUNDS", 300);
    const tokens = envNumber("TOKENS", 8);
    const [floor, rung] = await rig.edges();
    const mock = { url: (await rig.mock()).url };
    const keyed = await rig.rungKey();
    const paths: Path[] = [
      { name: "floor → instant node", target: { url: floor!.url }, model: INSTANT_MODEL },
      { name: "Rung → instant node", target: { url: rung!.url }, model: INSTANT_MODEL },
      ...(keyed ? [{ name: "Rung → instant node, with a limited key", target: keyed, model: INSTANT_MODEL }] : []),
      { name: "Rung → mock OpenAI (upstream rung)", target: { url: rung!.url }, model: UPSTREAM_MODEL },
      { name: "Portkey → mock OpenAI", target: await rig.portkey(), model: UPSTREAM_MODEL },
      { name: "mock OpenAI directly", target: mock, model: UPSTREAM_MODEL },
    ];
    const samples = paths.map(() => ({ whole: [] as number[], streamed: [] as number[], firstToken: [] as number[] }));
    const warmup = Math.min(30, rounds);
    progress(`overhead: ${warmup} warm-up and ${rounds} measured rounds over ${paths.length} paths`);
    for (let round = -warmup; round < rounds; round++) {
      for (const [index, path] of paths.entries()) {
        const whole = await timedChat(path.target, { model: path.model, stream: false, max_tokens: tokens });
        const streamed = await timedChat(path.target, { model: path.model, stream: true, max_tokens: tokens });
        if (round < 0) continue;
        samples[index]!.whole.push(whole.totalMs);
        samples[index]!.streamed.push(streamed.totalMs);
        samples[index]!.firstToken.push(streamed.firstTokenMs!);
      }
    }
    const figures: PathFigures[] = paths.map((path, i) => ({
      path: path.name,
      whole: spread(samples[i]!.whole),
      streamed: spread(samples[i]!.streamed),
      firstToken: spread(samples[i]!.firstToken),
    }));
    const named = (name: string) => figures.find((f) => f.path === name);
    const withKey = named("Rung → instant node, with a limited key");
    const added = [
      addedOver("Rung's edge over the floor (same instant node)", figures[1]!, figures[0]!),
      ...(withKey ? [addedOver("a limited key over no key (Rung, same node)", withKey, figures[1]!)] : []),
      addedOver(
        "Rung's upstream rung over the mock directly",
        named("Rung → mock OpenAI (upstream rung)")!,
        named("mock OpenAI directly")!,
      ),
      addedOver("Portkey over the mock directly", named("Portkey → mock OpenAI")!, named("mock OpenAI directly")!),
    ];
    const triple = (s: Spread) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;
    const markdown = [
      `${rounds} rounds, ${tokens} tokens, every path once a round, whole then streamed; ms, p50 / p95 / p99.`,
      "First token: request sent to the first SSE event with content. The instant node is rung-agent with `--model echo:instant`.",
      "",
      markdownTable(
        ["path", "whole answer", "streamed answer", "first token"],
        figures.map((f) => [f.path, triple(f.whole), triple(f.streamed), triple(f.firstToken)]),
      ),
      "",
      "Added (difference of the same percentile of each path, ms):",
      "",
      markdownTable(
        ["", "whole p50", "whole p99", "streamed p50", "streamed p99", "first token p50", "first token p99"],
        added.map((a) => [a.what, ...a.figures.map(signed)]),
      ),
    ].join("\n");
    return { markdown, parameters: { rounds, tokens, warmup }, figures: { paths: figures, added } };
  },
};

function addedOver(what: string, path: PathFigures, base: PathFigures) {
  const pairs = (key: "whole" | "streamed" | "firstToken") => [path[key].p50 - base[key].p50, path[key].p99 - base[key].p99];
  return { what, figures: [...pairs("whole"), ...pairs("streamed"), ...pairs("firstToken")] };
}
