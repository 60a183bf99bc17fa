// Does the ladder pay? Replays a mixed workload through the real edge (workerd)
// over three rungs of generated models, each served by its own rung-agent, and
// prints: the share of requests answered per rung, compute spent against always
// using the largest model, the latency the commit window adds, and how often a
// hedge wins. Every comparison runs side by side in the same run; nothing here
// is a test.
//
//   npm run bench:ladder       (REQUESTS=80 HEDGE_REQUESTS=16 to change the run)
//
// The parts: rung-specs.ts (the three models), make-prompts.ts (the seeded workload),
// make-ask.ts (one traced request), ladder-report.ts (the tables and the JSON summary).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Attempt, RungTrace } from "@rung/shared/openai";
import { DEFAULT_POLICY, preRoute } from "@rung/shared/routing";
import OpenAI from "openai";
import { AgentProcess } from "../../tests/e2e/harness/agent-process.ts";
import { edgeStatus, median, putPolicy as putPolicy_ } from "../../tests/e2e/harness/edge-admin.ts";
import { startLocalEdge } from "../../tests/e2e/harness/local-edge.ts";
import { modelCache, repoRoot } from "../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../gguf/make-test-model.ts";
import { ladderReport, type WorkloadRecord } from "./ladder-report.ts";
import { type Answer, makeAsk } from "./make-ask.ts";
import { calibrationTopics, makePrompts, type Prompt, workloadTopics } from "./make-prompts.ts";
import { parametersOf, rungSpecs } from "./rung-specs.ts";

const requestCount = Number(process.env.REQUESTS ?? 100);
const hedgeRequestCount = Number(process.env.HEDGE_REQUESTS ?? 20);
const maxTokens = 32;
/** The slow agent's testing-aid delay before its first token. */
const slowFirstTokenMs = 1500;
const adminKey = "bench-admin";
const [small, , largest] = rungSpecs;

/** The policy under test: defaults, judged by the mean, whose bar is calibrated below from the small rung's mean confidences. */
const basePolicy = { escalation: { judge: { feature: "mean" }, windowTokens: 16, commitMs: 500, maxClimbs: 2 } };
const windowTokens = basePolicy.escalation.windowTokens;

// ---- requests -----------------------------------------------------------------

const edge = await startLocalEdge({ RUNG_POLICY: JSON.stringify(basePolicy), RUNG_ADMIN_KEY: adminKey });
const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 });
const ask = makeAsk(client, maxTokens);

const putPolicy = (policy: object) => putPolicy_(edge.url, adminKey, policy);
const status = () => edgeStatus(edge.url);

const answered = (trace: RungTrace): Attempt => trace.attempts.at(-1)!;

/**
 * The rung `auto` starts a prompt on: the smallest, or one up when pre-routing matches (these
 * prompts are far shorter than longPromptTokens, so their length never matters). The run checks
 * it against the trace's first attempt.
 */
const startRungOf = (text: string): number =>
  preRoute([text], 0, DEFAULT_POLICY.preRouting).length > 0 ? DEFAULT_POLICY.preRouting.rungsUp : 0;

// ---- the run ------------------------------------------------------------------------

const agents: AgentProcess[] = [];
try {
  const paths = await Promise.all(rungSpecs.map((spec) => ensureTestModel(spec, modelCache)));
  // One after another: each agent measures its speed as it loads, and the balanced profile weighs
  // that speed when it picks the start rung, so loads competing for 2 cores would skew it.
  for (const [i, spec] of rungSpecs.entries()) {
    const agent = new AgentProcess({ edge: edge.url, name: `node-${spec.name}`, models: [paths[i]!] });
    agents.push(agent);
    await agent.joined([spec.name], 120_000);
  }
  const catalog = (await status()).catalog;
  for (const spec of rungSpecs) {
    const announced = catalog.find((entry) => entry.id === spec.name)?.parameters;
    if (announced !== parametersOf.get(spec.name))
      console.warn(`! ${spec.name}: the catalog says ${announced} parameters, the file has ${parametersOf.get(spec.name)}`);
  }
  const started = performance.now();

  // 1. Calibration on prompts the workload never uses: each rung pinned, each prompt judged on what
  // the ladder would judge: a stream on its commit window, a whole answer on all of it.
  const calibrationPrompts = makePrompts(calibrationTopics, calibrationTopics.length, 7);
  const calibration: Record<string, number[]> = {};
  const calibrationStarts: number[] = [];
  for (const spec of rungSpecs) {
    calibration[spec.name] = [];
    for (const prompt of calibrationPrompts) {
      const answer = await ask({ model: spec.name, text: prompt.text, stream: false, maxTokens: prompt.stream ? windowTokens : maxTokens });
      calibration[spec.name]!.push(answered(answer.rung).confidence?.mean ?? NaN);
      if (spec === small) calibrationStarts.push(startRungOf(prompt.text));
    }
  }
  /** The operator's rule: the smallest rung keeps the half of the traffic it sees (prompts not pre-routed) that it is surest about. */
  const threshold = Math.round(median(calibration[small.name]!.filter((_, p) => calibrationStarts[p] === 0)) * 1000) / 1000;
  /** What the ladder would do with the calibration prompts: climb from the start while below the threshold. */
  const predicted = rungSpecs.map(() => 0);
  calibrationPrompts.forEach((_, p) => {
    let rung = calibrationStarts[p]!;
    while (rung < rungSpecs.length - 1 && calibration[rungSpecs[rung]!.name]![p]! < threshold) rung++;
    predicted[rung]! += 1;
  });
  const policy = { ...basePolicy, escalation: { ...basePolicy.escalation, minMeanConfidence: threshold } };
  await putPolicy(policy);

  // Warm every path (first-request compilation, caches) before measuring.
  for (const spec of rungSpecs) for (const stream of [false, true]) await ask({ model: spec.name, text: "Hello!", stream });

  // 2. The workload, three ways side by side per request: `auto` (the ladder), the largest rung
  // pinned (the baseline), and for streams the rung `auto` starts on pinned (no commit window).
  // Not `rung: {escalate: false}`: that also turns pre-routing off, so code and math would start lower.
  const speeds = (await status()).catalog.map((e) => `${e.id} ${e.nodes.map((n) => n.tokensPerSecond.toFixed(0)).join("/")} tok/s`);
  const prompts = makePrompts(workloadTopics, requestCount, 42);
  /** Anything that should not happen, printed at the end. */
  const oddOutcomes: string[] = [];
  const records: WorkloadRecord[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const runs: Record<string, () => Promise<Answer>> = {
      auto: () => ask({ model: "auto", text: prompt.text, stream: prompt.stream }),
      largest: () => ask({ model: largest.name, text: prompt.text, stream: prompt.stream }),
      ...(prompt.stream && { noWindow: () => ask({ model: rungSpecs[startRungOf(prompt.text)]!.name, text: prompt.text, stream: true }) }),
    };
    // Rotate the order so no variant always runs first (or right after the largest model).
    const names = Object.keys(runs);
    const results: Record<string, Answer> = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      results[name] = await runs[name]!();
    }
    records.push({ prompt, auto: results.auto!, largest: results.largest!, noWindow: results.noWindow ?? null });
    const start = rungSpecs[startRungOf(prompt.text)]!.name;
    if (results.auto!.rung.attempts[0]!.model !== start)
      oddOutcomes.push(`"${prompt.text}" started on ${results.auto!.rung.attempts[0]!.model}, expected ${start}`);
  }

  // 3. Compute. Abandoned attempts count too. Greedy decoding is deterministic, so what an
  // escalated attempt generated is measured by replaying it pinned: a whole answer generated all
  // of it, a stream was cut when its commit window (windowTokens) was judged.
  const replayed = new Map<string, number>();
  const generatedBy = async (attempt: Attempt, prompt: Prompt, answer: Answer): Promise<number> => {
    if (attempt.outcome === "answered") return answer.completionTokens;
    if (attempt.outcome !== "escalated") return 0; // errors and lost hedges here are counted apart below
    const key = `${attempt.model}\n${prompt.text}`;
    if (!replayed.has(key)) replayed.set(key, (await ask({ model: attempt.model, text: prompt.text, stream: false })).completionTokens);
    const whole = replayed.get(key)!;
    return prompt.stream ? Math.min(windowTokens, whole) : whole;
  };
  let ladderCompute = 0;
  let wastedCompute = 0;
  let largestCompute = 0;
  for (const { prompt, auto, largest: baseline } of records) {
    for (const attempt of auto.rung.attempts) {
      const cost = parametersOf.get(attempt.model)! * (auto.promptTokens + (await generatedBy(attempt, prompt, auto)));
      ladderCompute += cost;
      if (attempt.outcome !== "answered") wastedCompute += cost;
      if (!["answered", "escalated"].includes(attempt.outcome))
        oddOutcomes.push(`${attempt.model}@${attempt.node}: ${attempt.outcome} ${attempt.reason ?? ""}`);
    }
    largestCompute += parametersOf.get(largest.name)! * (baseline.promptTokens + baseline.completionTokens);
  }

  // 4. Hedging: a second agent of the smallest rung whose first token is late by a testing-aid
  // fault. The router learns that node's late first tokens and prefers the prompt one, so
  // requests go in bursts of one more than the prompt agent's slots (2): the extra one lands on
  // the slow node whatever the router prefers. The hedge delay is the policy's default (the
  // model's recent first-token p95).
  const slowAgent = new AgentProcess({
    edge: edge.url,
    name: `slow-${small.name}`,
    models: [paths[0]!],
    extraArgs: ["--fault-first-token-delay-ms", String(slowFirstTokenMs)],
  });
  agents.push(slowAgent);
  await slowAgent.joined([small.name], 120_000);
  const hedgeDelay = Math.max((await status()).catalog.find((e) => e.id === small.name)?.firstTokenP95Ms ?? 0, 250);
  const hedgePrompts = makePrompts(workloadTopics.slice().reverse(), hedgeRequestCount, 99);
  const hedged: Answer[] = [];
  const burst = 3;
  for (let i = 0; i < hedgePrompts.length; i += burst) {
    const requests = hedgePrompts.slice(i, i + burst).map((prompt) => ask({ model: small.name, text: prompt.text, stream: true }));
    hedged.push(...(await Promise.all(requests)));
  }
  /**
   * A hedge starts at least minDelayMs after its primary, so when the hedge wins the primary lost
   * later than the winner's first token; when the primary wins, the hedge's trace is shorter.
   */
  const hedgeStarts = hedged.filter((a) => a.rung.attempts.some((t) => t.outcome === "hedge_lost"));
  const hedgeWins = hedgeStarts.filter((a) => {
    const lost = a.rung.attempts.find((t) => t.outcome === "hedge_lost")!;
    return lost.ms > (answered(a.rung).firstTokenMs ?? Infinity);
  });
  /** The primary is the attempt that lost to a winning hedge, or else the one that answered. */
  const primaryOf = (a: Answer) =>
    (hedgeWins.includes(a) ? a.rung.attempts.find((t) => t.outcome === "hedge_lost")! : answered(a.rung)).node;
  const slowPrimaries = hedged.filter((a) => primaryOf(a) === slowAgent.options.name);
  const elapsedS = (performance.now() - started) / 1000;

  // ---- report ------------------------------------------------------------------------
  const { text, summary } = ladderReport({
    requestCount,
    hedgeRequestCount,
    maxTokens,
    windowTokens,
    slowFirstTokenMs,
    speeds,
    policy,
    calibrationPrompts,
    calibration,
    calibrationStarts,
    threshold,
    predicted,
    records,
    ladderCompute,
    wastedCompute,
    largestCompute,
    hedgeDelay,
    hedged,
    hedgeStarts,
    hedgeWins,
    slowPrimaries,
    oddOutcomes,
    elapsedS,
  });
  console.log(text);

  const out = join(repoRoot, ".cache", "bench");
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, "ladder-workload.json"),
    JSON.stringify(
      {
        rungs: rungSpecs.map((spec) => ({ ...spec, parameters: parametersOf.get(spec.name) })),
        policy,
        calibration: { prompts: calibrationPrompts, startRung: calibrationStarts, meanConfidence: calibration, threshold, predicted },
        summary,
        requests: records,
        hedged,
      },
      null,
      2,
    ),
  );
} finally {
  await Promise.all(agents.map((agent) => agent.stop()));
  await edge.dispose();
}
