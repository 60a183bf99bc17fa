// Does the ladder pay? Replays a mixed workload through the real edge (workerd)
// over three rungs of generated models, each served by its own rung-agent, and
// prints: the share of requests answered per rung, compute spent against always
// using the largest model, the latency the commit window adds, and how often a
// hedge wins. Every comparison runs side by side in the same run; nothing here
// is a test.
//
//   npm run bench:ladder       (REQUESTS=80 HEDGE_REQUESTS=16 to change the run)
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
import { ensureTestModel, parameterCount, type TestModelOptions } from "../gguf/make-test-model.ts";

const requestCount = Number(process.env.REQUESTS ?? 100);
const hedgeRequestCount = Number(process.env.HEDGE_REQUESTS ?? 20);
const maxTokens = 32;
/** The slow agent's testing-aid delay before its first token. */
const slowFirstTokenMs = 1500;
const adminKey = "bench-admin";

/**
 * Three rungs of random-weight llama models, ~0.17M, ~1.1M and ~6.4M parameters.
 * Wider and deeper models get larger output scales, so larger means surer, and
 * each model's confidence varies from prompt to prompt, which is what the ladder judges.
 */
const rungSpecs = [
  { name: "ladder-s", embeddingLength: 64, layers: 2, heads: 4, contextLength: 2048, seed: 11, outputScale: 3 },
  { name: "ladder-m", embeddingLength: 128, layers: 4, heads: 4, contextLength: 2048, seed: 12, outputScale: 4 },
  { name: "ladder-l", embeddingLength: 256, layers: 6, heads: 8, contextLength: 2048, seed: 13, outputScale: 10 },
] as const satisfies readonly TestModelOptions[];
const [small, , largest] = rungSpecs;
const parametersOf = new Map<string, number>(rungSpecs.map((spec) => [spec.name, parameterCount(spec)]));

/** The policy under test: defaults, with the threshold calibrated below. */
const basePolicy = { escalation: { windowTokens: 16, commitMs: 500, maxClimbs: 2 } };
const windowTokens = basePolicy.escalation.windowTokens;

// ---- prompts ----------------------------------------------------------------

type Kind = "chat" | "question" | "code" | "math";
interface Prompt {
  kind: Kind;
  text: string;
  stream: boolean;
}

const workloadTopics = [
  "volcanoes",
  "the Roman empire",
  "sourdough bread",
  "black holes",
  "jazz",
  "honey bees",
  "the stock market",
  "glaciers",
  "chess openings",
  "electric cars",
  "coral reefs",
  "the printing press",
  "marathon training",
  "origami",
  "tea ceremonies",
  "solar panels",
  "penguins",
  "the Silk Road",
  "vaccines",
  "lighthouses",
  "board games",
  "the immune system",
  "rainforests",
  "airline pricing",
  "medieval castles",
  "coffee roasting",
  "tides",
  "the Renaissance",
  "houseplants",
  "submarines",
  "wind turbines",
  "dinosaurs",
  "recycling",
  "photography",
  "the Great Wall",
  "sleep cycles",
  "earthquakes",
  "violins",
  "cryptography",
  "beekeeping",
];
/** Calibration never sees a workload topic, so the threshold is not tuned on the workload. */
const calibrationTopics = [
  "deserts",
  "the Moon landing",
  "cheese making",
  "hurricanes",
  "origins of writing",
  "bicycles",
  "octopuses",
  "opera",
  "satellites",
  "pottery",
  "the Olympic games",
  "mushrooms",
  "canals",
  "eclipses",
  "knitting",
  "wolves",
  "the telegraph",
  "skyscrapers",
  "pyramids",
  "owls",
  "chocolate",
  "typewriters",
  "comets",
  "bridges",
];
const identifiers = ["total", "items", "scores", "rows", "names", "prices", "events", "users", "files", "orders"];

/** The workload mix: 40% short chat, 30% longer questions, 15% code-looking, 15% math-looking. */
const kindCycle: readonly Kind[] = [
  "chat",
  "question",
  "chat",
  "code",
  "question",
  "chat",
  "math",
  "chat",
  "question",
  "chat",
  "code",
  "question",
  "chat",
  "math",
  "question",
  "chat",
  "code",
  "chat",
  "question",
  "math",
];

function promptText(kind: Kind, topic: string, i: number): string {
  const id = identifiers[i % identifiers.length]!;
  const [a, b, c] = [(i % 7) + 2, ((i * 5) % 17) + 3, ((i * 11) % 40) + 20];
  switch (kind) {
    case "chat":
      return [`Tell me something fun about ${topic}.`, `What do you think of ${topic}?`, `Any quick facts on ${topic}?`][i % 3]!;
    case "question":
      return (
        `I am preparing a short talk for a general audience about ${topic}. Could you explain how it came to be, ` +
        `what most people misunderstand about it, and one surprising detail I could open with?`
      );
    case "code":
      return [
        `Why does this return undefined?\nfunction sum${id}(xs) { xs.reduce((a, b) => a + b, 0); }`,
        `Refactor this:\nconst ${id} = data.filter(x => x.ok).map(x => x.value);`,
        `def count_${id}(rows):\n    return len([r for r in rows if r])\nCan you add type hints?`,
      ][i % 3]!;
    case "math":
      return [`Solve ${a}x + ${b} = ${c} for x.`, `What is ${a} * (${b} + ${c})?`, `Simplify (${a}x + ${b}) - (${c} - x).`][i % 3]!;
  }
}

/** Deterministic and seeded, so every run replays the same workload. */
function makePrompts(topics: readonly string[], count: number, seed: number): Prompt[] {
  let state = seed;
  const coin = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % 2 === 0;
  };
  return Array.from({ length: count }, (_, i) => {
    const kind = kindCycle[i % kindCycle.length]!;
    return { kind, text: promptText(kind, topics[i % topics.length]!, i), stream: coin() };
  });
}

// ---- requests -----------------------------------------------------------------

interface Answer {
  rung: RungTrace;
  promptTokens: number;
  completionTokens: number;
  /** Request sent to first text (streams), ms. */
  firstMs: number | null;
  /** Request sent to the answer's end, ms. */
  totalMs: number;
}

interface Ask {
  model: string;
  text: string;
  stream: boolean;
  maxTokens?: number;
}

const edge = await startLocalEdge({ RUNG_POLICY: JSON.stringify(basePolicy), RUNG_ADMIN_KEY: adminKey });
const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 });

/** One request with the official client; the answer's `rung` trace is Rung's extension to OpenAI's body. */
async function ask({ model, text, stream, maxTokens: max = maxTokens }: Ask): Promise<Answer> {
  const base = { model, messages: [{ role: "user" as const, content: text }], max_tokens: max, temperature: 0 };
  const started = performance.now();
  if (!stream) {
    const completion = await client.chat.completions.create(base);
    const trace = (completion as unknown as { rung?: RungTrace }).rung;
    if (!trace || !completion.usage) throw new Error(`answer without rung trace or usage: ${JSON.stringify(completion)}`);
    return {
      rung: trace,
      promptTokens: completion.usage.prompt_tokens,
      completionTokens: completion.usage.completion_tokens,
      firstMs: null,
      totalMs: performance.now() - started,
    };
  }
  const chunks = await client.chat.completions.create({ ...base, stream: true, stream_options: { include_usage: true } });
  let firstMs: number | null = null;
  let last: (typeof chunks extends AsyncIterable<infer C> ? C : never) | undefined;
  for await (const chunk of chunks) {
    if (firstMs === null && chunk.choices[0]?.delta.content) firstMs = performance.now() - started;
    last = chunk;
  }
  const totalMs = performance.now() - started;
  // The trace rides in the final (usage) chunk when include_usage is set.
  const trace = (last as unknown as { rung?: RungTrace } | undefined)?.rung;
  if (!trace || !last?.usage) throw new Error(`stream ended without a usage chunk carrying the rung trace: ${JSON.stringify(last)}`);
  return { rung: trace, promptTokens: last.usage.prompt_tokens, completionTokens: last.usage.completion_tokens, firstMs, totalMs };
}

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

// ---- arithmetic -----------------------------------------------------------------

const pct = (part: number, whole: number) => (whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}%`);
const ms = (value: number) => (Number.isNaN(value) ? "–" : `${value.toFixed(1)} ms`);
const millions = (value: number) => `${(value / 1e6).toFixed(2)}M`;

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
  const records: { prompt: Prompt; auto: Answer; largest: Answer; noWindow: Answer | null }[] = [];
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
  console.log(lines.join("\n"));

  const out = join(repoRoot, ".cache", "bench");
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, "ladder-workload.json"),
    JSON.stringify(
      {
        rungs: rungSpecs.map((spec) => ({ ...spec, parameters: parametersOf.get(spec.name) })),
        policy,
        calibration: { prompts: calibrationPrompts, startRung: calibrationStarts, meanConfidence: calibration, threshold, predicted },
        summary: {
          answeredPerRung: Object.fromEntries(rungSpecs.map((s, r) => [s.name, perRung[r]])),
          preRouted: preRouted.length,
          escalationsPerRequest: escalations.reduce((a, b) => a + b, 0) / requestCount,
          compute: { ladder: ladderCompute, largest: largestCompute, wasted: wastedCompute, ratio: ladderCompute / largestCompute },
          latencyMs: { commitWindowFirstToken: windowFirst, commitWindowTotal: windowTotal, climbedFirstToken: climbFirst, allTotal },
          hedge: { requests: hedgeRequestCount, delayMs: hedgeDelay, started: hedgeStarts.length, won: hedgeWins.length },
        },
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
