/**
 * The judges' part of the evaluation: every judge studied on the calibration halves, the
 * default picked by its stated rule, then every judge at its calibrated bar replayed on the
 * test halves from the pinned runs (exact: greedy answers do not change with routing), and the
 * window lengths a stream's commit window could judge.
 */
import { oracle, perfectJudge, randomAtShare } from "./baselines.ts";
import { calibrate } from "./calibrate.ts";
import type { Phase1 } from "./evaluate.ts";
import {
  chooseDefaultJudge,
  DEFAULT_JUDGE_RULE,
  type JudgePoint,
  type JudgeStudy,
  judgeCandidates,
  judgePoint,
  scorer,
  studyJudge,
} from "./judges.ts";
import { type BarsPoint, type PerModelRow, perModelRow } from "./per-model.ts";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? "–" : x.toFixed(digits));

export interface JudgeRow {
  name: string;
  judge: JudgeStudy["candidate"]["judge"];
  bar: number;
  everyNode: boolean;
  calibrationOfOracle: number;
  calibrationMeetsAccuracy: boolean;
  /** Per task, on its test half at the calibrated bar. */
  test: (JudgePoint & { task: string; random: { accuracy: number; relativeCompute: number } })[];
}

export interface WindowRow {
  windowTokens: number;
  bar: number;
  test: { task: string; ofLargest: number; belowTop: number; ofOracle: number; meets: boolean }[];
}

export interface JudgeResults {
  rule: string;
  chosen: string;
  rows: JudgeRow[];
  windows: WindowRow[];
  /** The mean judge with a bar per model (`escalation.bars`) on each task's rungs below the top. */
  perModelBars: { judge: string; rule: string; tasks: PerModelRow[] };
  printed: string[];
}

/** The judge whose bars per model the evaluation measures: the shipped one's feature. */
export const PER_MODEL_JUDGE = "mean";

export const PER_MODEL_RULE =
  "per task: its own bar by the calibration rule on its calibration half, then npm run calibrate --per-model's search (cheapestBarsPerModel, every pair of grid bars for the s and m rungs) on the same half: the lowest compute whose accuracy is >= 98% of the largest rung's calibration accuracy, starting from the task's own bar; replayed on the test half";

/** Windows a stream could be judged on; answers shorter than a window are judged whole. */
export const WINDOWS = [1, 2, 4, 8, 12, 16, 20, 24];

export function judgeResults(phases: Phase1[]): JudgeResults {
  const lines: string[] = [];
  const say = (line = "") => lines.push(line);
  const calibrationHalves = phases.map((p) => p.calibrationPinned);
  const studies = judgeCandidates(calibrationHalves).map((c) => studyJudge(c, calibrationHalves));
  const chosen = chooseDefaultJudge(studies);
  const rows: JudgeRow[] = studies.map((s) => ({
    name: s.candidate.name,
    judge: s.candidate.judge,
    bar: s.calibration.threshold,
    everyNode: s.everyNode,
    calibrationOfOracle: s.calibrationOfOracle,
    calibrationMeetsAccuracy: s.calibrationMeetsAccuracy,
    test: phases.map((phase) => {
      const point = judgePoint(phase.testPinned, s.calibration.threshold, scorer(s.candidate.judge));
      const n = phase.testPinned.runs[0]!.length;
      const counts = point.share.map((x) => Math.round(x * n));
      const random = randomAtShare(`random at ${s.candidate.name}'s share`, counts, phase.testPinned);
      return { ...point, task: phase.task.entry.name, random: { accuracy: random.accuracy, relativeCompute: random.relativeCompute } };
    }),
  }));

  say(`\n# judges (issue 14): calibrated on the calibration halves, replayed on the test halves from the pinned runs`);
  say(`each judge's bar: the calibration rule on every task's calibration half at once (the bar must hold on every task)`);
  say(`default rule, stated before the test halves: ${DEFAULT_JUDGE_RULE}`);
  say(`→ default judge: ${chosen.candidate.name} at bar ${chosen.calibration.threshold} (${JSON.stringify(chosen.candidate.judge)})`);
  say(
    `\n| judge | every node | bar | calibration: compute ÷ oracle (mean) | ${phases.map((p) => `${p.task.entry.name} test: of largest / below top / ÷ oracle / AUROC s`).join(" | ")} |`,
  );
  say(`|---|---|---|---|${phases.map(() => "---|").join("")}`);
  for (const row of rows) {
    say(
      `| ${row.name === chosen.candidate.name ? `**${row.name}**` : row.name} | ${row.everyNode ? "yes" : "no"} | ${row.bar} | ${num(row.calibrationOfOracle, 2)}×${row.calibrationMeetsAccuracy ? "" : " (misses accuracy)"} | ${row.test.map((t) => `${pct(t.ofLargest)} / ${pct(t.belowTop)} / ${num(t.ofOracle, 2)}×${t.meets.all ? " ✓" : ""} / ${num(t.auroc[0])}`).join(" | ")} |`,
    );
  }
  for (const phase of phases) {
    const o = oracle(phase.testPinned);
    const perfect = perfectJudge(phase.testPinned);
    say(
      `${phase.task.entry.name} test half: oracle compute ${pct(o.relativeCompute)} of always-largest (answered s/m/l ${o.share.map(pct).join(" / ")}); a perfect judge, paying for every rung it tries, ${pct(perfect.relativeCompute)} = ${num(perfect.relativeCompute / o.relativeCompute, 2)}× the oracle; random at the default judge's share: accuracy ${pct(rows.find((r) => r.name === chosen.candidate.name)!.test.find((t) => t.task === phase.task.entry.name)!.random.accuracy)}`,
    );
  }

  // Windows: the default judge on the first k tokens, its bar calibrated again for each k.
  const windows: WindowRow[] = WINDOWS.map((k) => {
    const score = scorer(chosen.candidate.judge, k);
    const bar = calibrate(calibrationHalves, score).threshold;
    return {
      windowTokens: k,
      bar,
      test: phases.map((phase) => {
        const point = judgePoint(phase.testPinned, bar, score);
        return {
          task: phase.task.entry.name,
          ofLargest: point.ofLargest,
          belowTop: point.belowTop,
          ofOracle: point.ofOracle,
          meets: point.meets.all,
        };
      }),
    };
  });
  say(`\n# commit window: the default judge on a stream's first k tokens (bar calibrated again for each k on the calibration halves)`);
  say(
    `answer lengths in tokens (answer + end token): ${phases.map((p) => `${p.task.entry.name} ${p.task.problems[0]!.answer.length + 1}`).join(", ")}`,
  );
  say(`| window k | bar | ${phases.map((p) => `${p.task.entry.name}: of largest / below top / ÷ oracle`).join(" | ")} |`);
  say(`|---|---|${phases.map(() => "---|").join("")}`);
  for (const w of windows) {
    say(
      `| ${w.windowTokens} | ${w.bar} | ${w.test.map((t) => `${pct(t.ofLargest)} / ${pct(t.belowTop)} / ${num(t.ofOracle, 2)}×${t.meets ? " ✓" : ""}`).join(" | ")} |`,
    );
  }

  // A bar per model: the mean judge's bars for each task's rungs below the top, on its calibration half.
  const mean = studies.find((s) => s.candidate.name === PER_MODEL_JUDGE)!;
  const perModel = phases.map((phase) =>
    perModelRow(phase.task.entry.name, phase.calibrationPinned, phase.testPinned, scorer(mean.candidate.judge), mean.calibration.threshold),
  );
  const figures = (x: BarsPoint) => `${pct(x.ofLargest)} / ${pct(x.belowTop)} / ${num(x.ofOracle, 2)}×${x.meets.all ? " ✓" : ""}`;
  say(`\n# a bar per model (escalation.bars), the ${PER_MODEL_JUDGE} judge: ${PER_MODEL_RULE}`);
  say(`of largest / below top / ÷ oracle; calibrate's replay agrees exactly with the eval's at the shared bars on both halves`);
  say(
    `| task | shared ${mean.calibration.threshold}: test | task's own bar: calibration → test | a bar per model (s, m): calibration → test |`,
  );
  say(`|---|---|---|---|`);
  for (const t of perModel) {
    say(
      `| ${t.task} | ${figures(t.test.shared)} | ${t.taskBar}: ${figures(t.calibration.taskBar)} → ${figures(t.test.taskBar)} | ${t.bars.join(", ")}: ${figures(t.calibration.perModel)} → ${figures(t.test.perModel)} |`,
    );
  }
  return {
    rule: DEFAULT_JUDGE_RULE,
    chosen: chosen.candidate.name,
    rows,
    windows,
    perModelBars: { judge: PER_MODEL_JUDGE, rule: PER_MODEL_RULE, tasks: perModel },
    printed: lines,
  };
}
