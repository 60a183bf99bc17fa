// `npm run eval`: the ladder's quality-versus-compute evaluation on the trained task models
// (tests/fixtures/trained/), through the real local edge (workerd) and a real rung-agent.
// Prints a table per task and writes docs/eval/results.json and docs/eval/curve-<task>.svg.
//
//   npm run eval                        (EVAL_LIMIT=50 caps each half, for a quick look;
//                                        EVAL_FIXTURES=<dir> uses another folder of the same shape)
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { DEFAULT_POLICY, judgeLabel, MEAN_BAR, sameJudge } from "@rung/shared/routing";
import { repoRoot } from "../../tests/e2e/harness/paths.ts";
import { oracle } from "./baselines.ts";
import { calibrate, TARGET } from "./calibrate.ts";
import { autoPhase, type Phase1, pinnedPhase, SWEEP, type TaskResult } from "./evaluate.ts";
import { fixturesDir, loadTasks } from "./fixtures.ts";
import { judgeCurveSvg } from "./judge-curve.ts";
import { judgeResults } from "./judge-report.ts";
import { type JudgeRuns, judgeRuns } from "./judge-runs.ts";
import { labelledRecords, scorer } from "./judges.ts";
import { curveSvg, taskTable } from "./report.ts";
import { EvalSession, extraTokens, policyFor } from "./session.ts";
import { simulate } from "./simulate.ts";

const limit = Number(process.env.EVAL_LIMIT ?? Infinity);
const outDir = process.env.EVAL_OUT ? join(process.cwd(), process.env.EVAL_OUT) : join(repoRoot, "docs", "eval");
const started = performance.now();
const dir = fixturesDir();
const { tasks } = await loadTasks(dir);
const session = await EvalSession.start();
const lines: string[] = [];
const say = (line = "") => {
  lines.push(line);
  console.log(line);
};
try {
  say(
    `ladder evaluation: ${tasks.length} task(s) from ${relative(repoRoot, dir) || dir}; one rung-agent (threads 1) serving each task's three rungs through the local edge;`,
  );
  say(
    `requests one at a time with the openai client: POST /v1/completions, temperature 0, max_tokens = answer length + ${extraTokens}, whole answers, exact match of the answer.`,
  );
  say(
    `policy: defaults except escalation.judge named (the mean, unless a judge is studied), preRouting.enabled = false (these prompts are not chat) and profiles.balanced.latency = 0 (the agent reports speed 0, "unknown", for models that end its`,
  );
  say(
    `"Once upon a time" speed probe at once, and the balanced profile counts unknown as slowest, so until heartbeats carry speeds measured on jobs the start rung depends on which`,
  );
  say(
    `model rambled; one row per task, run last, keeps the shipped weights); thresholds set with PUT /admin/policy, e.g. ${JSON.stringify(policyFor(0.9))}.`,
  );

  // 1. Every rung pinned on both halves.
  const phases: Phase1[] = [];
  for (const task of tasks) {
    const t0 = performance.now();
    phases.push(await pinnedPhase(session, task, limit));
    await session.stopAgent();
    say(`pinned runs for ${task.entry.name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }

  // 2. The recommended default threshold, from the calibration halves only.
  const calibration = calibrate(phases.map((p) => p.calibrationPinned));
  const recommended = calibration.threshold;
  say(`\n# calibration (calibration halves only; the test halves are not looked at)`);
  say(`rule: ${calibration.rule}; with several tasks the bar must hold on every task and compute is the tasks' mean.`);
  for (const phase of phases) {
    const sim = simulate(phase.calibrationPinned, recommended);
    say(
      `  ${phase.task.entry.name}: at ${recommended} the calibration half predicts accuracy ${(100 * sim.accuracy).toFixed(1)}% (largest ${(100 * simulate(phase.calibrationPinned, 1.01).accuracy).toFixed(1)}%), answered s/m/l ${sim.share.map((s) => `${(100 * s).toFixed(1)}%`).join(" / ")}, compute ${(100 * sim.relativeCompute).toFixed(1)}% of largest`,
    );
  }
  say(
    `→ recommended bar for the mean = ${recommended} (a policy that names the mean without a bar is held to ${MEAN_BAR}; the shipped judge is chosen below).`,
  );
  say(
    `  Answer lengths here (answer + end token): ${[...new Set(tasks.flatMap((t) => t.problems.map((p) => p.answer.length + extraTokens)))].join("/")} tokens; the commit window holds ${DEFAULT_POLICY.escalation.windowTokens}`,
  );
  say(`  (or ${DEFAULT_POLICY.escalation.commitMs} ms): the streamed runs and the window table below measure what it judges.`);

  // 3. Every judge on the calibration halves, the default by its rule; replayed on the test halves.
  const judges = judgeResults(phases);
  for (const line of judges.printed) say(line);
  const chosen = judges.rows.find((r) => r.name === judges.chosen)!;
  const shipped = DEFAULT_POLICY.escalation;
  // More tasks can change what the rule picks; the shipped default should not drift from it unnoticed.
  if (!sameJudge(chosen.judge, shipped.judge) || chosen.bar !== shipped.minMeanConfidence) {
    say(
      `! the shipped default judges by ${judgeLabel(shipped.judge)} at ${shipped.minMeanConfidence}, not by what the rule chose (${chosen.name} at ${chosen.bar}): see shared/routing/policy.ts`,
    );
  }

  // 4. The default judge through the edge on the test halves, whole and streamed.
  const runs: JudgeRuns[] = [];
  say(`\n# the default judge (${chosen.name} @ ${chosen.bar}) through the edge, test halves, whole and streamed`);
  say(
    `| task | whole: of largest / below top / ÷ oracle | streamed: of largest / below top / ÷ oracle | first text, s pinned → auto (no climb) | added | streams that climbed after text | rung ≠ replay (whole, streamed) |`,
  );
  say(`|---|---|---|---|---|---|---|`);
  for (const phase of phases) {
    const r = await judgeRuns(session, phase, chosen.name, chosen.judge, chosen.bar);
    runs.push(r);
    const o = (s: typeof r.whole) => {
      const largest = phase.testPinned.runs.at(-1)!.filter((x) => x.correct).length / phase.testPinned.runs[0]!.length;
      return `${((100 * s.accuracy) / largest).toFixed(1)}% / ${(100 * (1 - s.share.at(-1)!)).toFixed(1)}% / ${(s.relativeCompute / oracle(phase.testPinned).relativeCompute).toFixed(2)}×`;
    };
    say(
      `| ${r.task} | ${o(r.whole)} | ${o(r.streamed)} | ${r.firstText.pinnedSmallestMs.toFixed(1)} → ${r.firstText.autoNoClimbMs.toFixed(1)} ms | ${r.firstText.addedMs.toFixed(1)} ms | ${r.climbedAfterText} | ${r.whole.disagreesWithPinned}, ${r.streamed.disagreesWithPinned} |`,
    );
  }

  // 5. auto on the test halves with the mean: its default bar, a sweep, and the calibrated thresholds.
  const results: TaskResult[] = [];
  for (const phase of phases) {
    const own = calibrate([phase.calibrationPinned]).threshold;
    const thresholds = [...new Set([...SWEEP, recommended, own])].filter((t) => t !== MEAN_BAR).sort((a, b) => a - b);
    const t0 = performance.now();
    const result = await autoPhase(session, phase, [undefined, ...thresholds], recommended);
    results.push(result);
    say(taskTable(result));
    say(`(auto runs: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }

  say(
    `\n# against the target (≥ ${100 * TARGET.accuracyOfLargest}% of the largest rung's accuracy with ≥ ${100 * TARGET.belowTopShare}% answered below the top rung), test halves`,
  );
  for (const result of results) {
    for (const a of result.test.auto) {
      say(
        `  ${result.task} ${a.label}: ${((100 * a.accuracy) / result.test.largestAccuracy).toFixed(1)}% of largest, ${(100 * (1 - a.share.at(-1)!)).toFixed(1)}% below top → ${a.target.both ? "meets the target" : "misses"}; beats random at the same share by ${(100 * (a.accuracy - a.random.accuracy)).toFixed(1)} points`,
      );
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  say(
    `\n${elapsed.toFixed(0)} s in all; results in ${relative(repoRoot, join(outDir, "results.json"))}, curves in ${results.map((r) => relative(repoRoot, join(outDir, `curve-${r.task}.svg`))).join(", ")}`,
  );

  await mkdir(outDir, { recursive: true });
  for (const result of results) await writeFile(join(outDir, `curve-${result.task}.svg`), curveSvg(result));
  for (const phase of phases) {
    const name = phase.task.entry.name;
    await writeFile(join(outDir, `judges-${name}.svg`), judgeCurveSvg(phase, judges.rows, judges.chosen));
    await writeFile(join(outDir, `labelled-${name}.jsonl`), labelledRecords(phase.calibrationPinned, scorer(chosen.judge)));
  }
  await writeFile(
    join(outDir, "results.json"),
    `${JSON.stringify(
      {
        command: "npm run eval",
        fixtures: relative(repoRoot, dir) || dir,
        limitPerHalf: Number.isFinite(limit) ? limit : null,
        request: {
          endpoint: "/v1/completions",
          temperature: 0,
          maxTokens: `answer length + ${extraTokens}`,
          stream: false,
          scoring: "exact match (trimmed)",
        },
        basePolicy: policyFor(),
        split: "problems ordered by FNV-1a of the prompt, dealt alternately: even positions calibration, odd test",
        target: TARGET,
        recommended: { threshold: recommended, rule: calibration.rule, meanDefaultBar: MEAN_BAR },
        judges: {
          rule: judges.rule,
          chosen: { name: chosen.name, judge: chosen.judge, bar: chosen.bar },
          rows: judges.rows,
          windows: judges.windows,
          perModelBars: judges.perModelBars,
          throughTheEdge: runs,
        },
        calibrationGrid: calibration.grid.map((g) => ({
          threshold: g.threshold,
          accuracy: g.accuracy,
          share: g.share,
          relativeCompute: g.relativeCompute,
        })),
        tasks: results.map((r) => ({
          ...r,
          calibration: { ...r.calibration, own: { threshold: r.calibration.own.threshold, chosen: r.calibration.own.chosen } },
        })),
        elapsedSeconds: Math.round(elapsed),
        printed: lines.join("\n"),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await session.dispose();
}
