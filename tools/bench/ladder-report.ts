/** The ladder benchmark's report: the tables it prints and the summary it writes to JSON, from one run's raw results. */
import { median } from "../../tests/e2e/harness/edge-admin.ts";
import type { Answer } from "./make-ask.ts";
import type { Prompt } from "./make-prompts.ts";
import { parametersOf, rungSpecs } from "./rung-specs.ts";

const [small, , largest] = rungSpecs;

/** One workload request, asked three ways side by side. */
export interface WorkloadRecord {
  prompt: Prompt;
  /** `auto`: the ladder. */
  auto: Answer;
  /** The largest rung pinned: the baseline. */
  largest: Answer;
  /** For streams, the rung `auto` starts on pinned: no commit window. */
  noWindow: Answer | null;
}

/** What a run measured, as the benchmark computed it. */
export interface LadderRun {
  requestCount: number;
  hedgeRequestCount: number;
  maxTokens: number;
  windowTokens: number;
  slowFirstTokenMs: number;
  /** Each rung's speed as the router saw it when the workload began. */
  speeds: string[];
  policy: { escalation: { commitMs: number; maxClimbs: number } };
  calibrationPrompts: Prompt[];
  /** Each rung's mean confidence per calibration prompt, by rung name. */
  calibration: Record<string, number[]>;
  /** The rung `auto` starts each calibration prompt on. */
  calibrationStarts: number[];
  threshold: number;
  /** Calibration prompts each rung would answer at the threshold. */
  predicted: number[];
  records: WorkloadRecord[];
  ladderCompute: number;
  wastedCompute: number;
  largestCompute: number;
  hedgeDelay: number;
  hedged: Answer[];
  hedgeStarts: Answer[];
  hedgeWins: Answer[];
  slowPrimaries: Answer[];
  /** Anything that should not have happened. */
  oddOutcomes: string[];
  elapsedS: number;
}

const pct = (part: number, whole: number) => (whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}%`);
const ms = (value: number) => (Number.isNaN(value) ? "–" : `${value.toFixed(1)} ms`);
const millions = (value: number) => `${(value / 1e6).toFixed(2)}M`;

/** The report's text, and the summary of the same figures for the JSON results. */
export function ladderReport(run: LadderRun) {
  const { requestCount, hedgeRequestCount, maxTokens, windowTokens, slowFirstTokenMs, speeds, policy } = run;
  const { calibrationPrompts, calibration, calibrationStarts, threshold, predicted, records } = run;
  const { ladderCompute, wastedCompute, largestCompute, hedgeDelay, hedged, hedgeStarts, hedgeWins, slowPrimaries } = run;
  const { oddOutcomes, elapsedS } = run;
  const autos = records.map((r) => r.auto);
  const perRung = rungSpecs.map((spec) => autos.filter((a) => a.rung.model === spec.name).length);
  const escalations = autos.map((a) => a.rung.escalations);
  const preRouted = autos.filter((a) => (a.rung.preRouted ?? []).length > 0);
  const notClimbedBelowTop = records.filter((r) => r.noWindow && r.auto.rung.escalations === 0 && r.auto.rung.model !== largest.name);
  const climbedStreams = records.filter((r) => r.noWindow && r.auto.rung.escalations > 0);
  const firstMs = (answers: (Answer | null)[]) => answers.map((a) => a?.firstMs).filter((v): v is number => typeof v === "number");
  const totals = (answers: (Answer | null)[]) => answers.map((a) => a!.totalMs);
  const windowFirst = [
    median(firstMs(notClimbedBelowTop.map((r) => r.auto))),
    median(firstMs(notClimbedBelowTop.map((r) => r.noWindow))),
  ] as const;
  const windowTotal = [
    median(totals(notClimbedBelowTop.map((r) => r.auto))),
    median(totals(notClimbedBelowTop.map((r) => r.noWindow))),
  ] as const;
  const climbFirst = [median(firstMs(climbedStreams.map((r) => r.auto))), median(firstMs(climbedStreams.map((r) => r.noWindow)))] as const;
  const allTotal = [median(autos.map((a) => a.totalMs)), median(records.map((r) => r.largest.totalMs))] as const;
  const streams = records.filter((r) => r.prompt.stream).length;

  const lines: string[] = [];
  const say = (line = "") => lines.push(line);
  say(
    `\nladder workload: ${requestCount} requests (${streams} streamed, ${requestCount - streams} whole) with model "auto", ${maxTokens} greedy tokens each, one request at a time, threads 1 per agent`,
  );
  say(`speeds the router saw as the workload began (nodes' own measurements, which the balanced profile weighs): ${speeds.join(", ")}`);
  say(
    `rungs: ${rungSpecs.map((s) => `${s.name} ${millions(parametersOf.get(s.name)!)} params (${s.embeddingLength} wide, ${s.layers} layers, output scale ${s.outputScale})`).join("; ")}`,
  );
  say(
    `\ncalibration (${calibrationPrompts.length} prompts, none in the workload; each rung pinned, mean confidence of what the ladder judges: ${windowTokens} tokens for streams, all ${maxTokens} for whole answers):`,
  );
  say(`| rung | median confidence | range |`);
  say(`|---|---|---|`);
  for (const spec of rungSpecs) {
    const values = calibration[spec.name]!;
    say(`| ${spec.name} | ${median(values).toFixed(3)} | ${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)} |`);
  }
  say(`→ escalation.minMeanConfidence = ${threshold}: the median of ${small.name} over the ${calibrationStarts.filter((r) => r === 0).length} calibration prompts that start there (not pre-routed),
  so the smallest rung keeps the half of its traffic it is surest about;`);
  say(
    `  set with PUT /admin/policy; windowTokens ${windowTokens}, commitMs ${policy.escalation.commitMs}, maxClimbs ${policy.escalation.maxClimbs}, pre-routing on (code/math start one rung up).`,
  );
  say(
    `  On the calibration prompts that threshold would answer: ${rungSpecs.map((s, r) => `${s.name} ${pct(predicted[r]!, calibrationPrompts.length)}`).join(", ")}.`,
  );

  say(`\n| figure | value | what it says |`);
  say(`|---|---|---|`);
  for (const [r, spec] of rungSpecs.entries()) {
    say(
      `| answered by ${spec.name} | ${perRung[r]} (${pct(perRung[r]!, requestCount)}) | share of requests whose answer came from this rung |`,
    );
  }
  say(
    `| pre-routed | ${preRouted.length} (${pct(preRouted.length, requestCount)}) | started a rung up on code/math/multi-step markers, skipping the smallest |`,
  );
  say(
    `| escalations per request | ${(escalations.reduce((a, b) => a + b, 0) / requestCount).toFixed(2)} (0: ${escalations.filter((e) => e === 0).length}, 1: ${escalations.filter((e) => e === 1).length}, 2: ${escalations.filter((e) => e === 2).length}) | climbs because the answer's confidence was below the threshold |`,
  );
  say(
    `| compute, ladder | ${(ladderCompute / 1e9).toFixed(3)} G param·tokens | Σ over every attempt, abandoned ones included, of parameters × (prompt + generated tokens) |`,
  );
  say(
    `| compute, always ${largest.name} | ${(largestCompute / 1e9).toFixed(3)} G param·tokens | the same requests pinned to the largest rung in the same run |`,
  );
  say(`| ladder / largest | ${pct(ladderCompute, largestCompute)} | compute the ladder spent relative to always using the largest model |`);
  say(
    `| wasted on climbs | ${pct(wastedCompute, ladderCompute)} of ladder compute | what escalated (abandoned) attempts cost; streams counted ${windowTokens} tokens, whole answers all they generated |`,
  );
  say(`\nlatency, medians, same requests side by side:`);
  say(`| figure | auto, escalation on | same request, its start rung pinned | added |`);
  say(`|---|---|---|---|`);
  say(
    `| first token, ${notClimbedBelowTop.length} streams answered below the top rung without climbing | ${ms(windowFirst[0])} | ${ms(windowFirst[1])} | ${ms(windowFirst[0] - windowFirst[1])} |`,
  );
  say(`| total, those streams | ${ms(windowTotal[0])} | ${ms(windowTotal[1])} | ${ms(windowTotal[0] - windowTotal[1])} |`);
  say(
    `| first token, ${climbedStreams.length} streams that climbed (pinned: answered on the start rung) | ${ms(climbFirst[0])} | ${ms(climbFirst[1])} | ${ms(climbFirst[0] - climbFirst[1])} |`,
  );
  say(
    `The first row is the commit window's price: the edge holds the first ${windowTokens} tokens (at most ${policy.escalation.commitMs} ms) to judge them before the client sees a byte.`,
  );
  say(
    `| total latency, all ${requestCount} requests | auto: ${ms(allTotal[0])} | always ${largest.name}: ${ms(allTotal[1])} | ${ms(allTotal[0] - allTotal[1])} |`,
  );
  say(
    `\nhedging: a second ${small.name} agent whose first token is ${slowFirstTokenMs} ms late (--fault-first-token-delay-ms), ${hedgeRequestCount} streams pinned to ${small.name} in bursts of 3, hedge after the p95 default (≈${hedgeDelay.toFixed(0)} ms now):`,
  );
  say(`| figure | value | what it says |`);
  say(`|---|---|---|`);
  say(
    `| primaries on the slow node | ${slowPrimaries.length} of ${hedgeRequestCount} | requests first dispatched to the slow agent (the router weighs load, speed and each node's recent first-token time) |`,
  );
  say(
    `| hedges started | ${hedgeStarts.length} (${pct(hedgeStarts.length, hedgeRequestCount)}) | first token later than the hedge delay, so a second node got the same job |`,
  );
  say(
    `| hedge win rate | ${hedgeWins.length}/${hedgeStarts.length} (${pct(hedgeWins.length, hedgeStarts.length)}) | the hedge answered first and the slow primary was cancelled (hedge_lost) |`,
  );
  say(
    `| first token, hedged requests | ${ms(median(firstMs(hedgeStarts)))} | median; without the hedge these would wait ≥ ${slowFirstTokenMs} ms |`,
  );
  say(`| first token, not hedged | ${ms(median(firstMs(hedged.filter((a) => !hedgeStarts.includes(a)))))} | median |`);
  if (oddOutcomes.length > 0) say(`\n! unexpected: ${oddOutcomes.join("; ")}`);
  say(`\n${elapsedS.toFixed(0)} s measured; results in .cache/bench/ladder-workload.json`);

  const summary = {
    answeredPerRung: Object.fromEntries(rungSpecs.map((s, r) => [s.name, perRung[r]])),
    preRouted: preRouted.length,
    escalationsPerRequest: escalations.reduce((a, b) => a + b, 0) / requestCount,
    compute: { ladder: ladderCompute, largest: largestCompute, wasted: wastedCompute, ratio: ladderCompute / largestCompute },
    latencyMs: { commitWindowFirstToken: windowFirst, commitWindowTotal: windowTotal, climbedFirstToken: climbFirst, allTotal },
    hedge: { requests: hedgeRequestCount, delayMs: hedgeDelay, started: hedgeStarts.length, won: hedgeWins.length },
  };
  return { text: lines.join("\n"), summary };
}
