/**
 * The default judge through the real edge on a task's test half, whole and streamed, beside
 * the smallest rung pinned and streamed: what the commit window adds to the first text, and
 * whether any stream climbed after its client saw text (its text would then differ from the
 * answering rung's own).
 */
import { DEFAULT_POLICY, type Judge } from "@rung/shared/routing";
import { median } from "../../tests/e2e/harness/edge-admin.ts";
import { type AutoSummary, autoSummary } from "./auto-summary.ts";
import type { Phase1 } from "./evaluate.ts";
import { splitProblems } from "./fixtures.ts";
import { scorer } from "./judges.ts";
import type { EvalSession } from "./session.ts";

export interface JudgeRuns {
  task: string;
  judge: string;
  bar: number;
  whole: AutoSummary;
  streamed: AutoSummary;
  firstText: {
    /** Median ms to the first text, the smallest rung pinned and streamed (no window: a pinned request cannot climb). */
    pinnedSmallestMs: number;
    /** The same through `auto` with the default judge, every request. */
    autoMs: number;
    /** Only requests answered on the smallest rung without a climb: the window's own cost. */
    autoNoClimbMs: number;
    addedMs: number;
  };
  /** Streams whose text is not the answering rung's own: a climb after the client had text would show here. */
  climbedAfterText: number;
}

export async function judgeRuns(session: EvalSession, phase: Phase1, name: string, judge: Judge, bar: number): Promise<JudgeRuns> {
  const { task, testPinned: p } = phase;
  const problems = splitProblems(task.problems).test.slice(0, phase.limit.test);
  await session.serve(task);
  const smallest = task.rungs[0]!.id;
  const pinnedStreams = [];
  for (const problem of problems) pinnedStreams.push(await session.ask(smallest, problem, { stream: true }));
  const whole = autoSummary(`auto, ${name} @ ${bar}, whole`, bar, await session.auto(problems, bar, false, judge), p, scorer(judge));
  const streams = await session.auto(problems, bar, false, judge, true);
  const window = DEFAULT_POLICY.escalation.windowTokens;
  const streamed = autoSummary(`auto, ${name} @ ${bar}, streamed`, bar, streams, p, scorer(judge, window));
  await session.stopAgent();
  const firstTexts = (xs: typeof streams) => median(xs.map((o) => o.firstTextMs ?? Number.NaN).filter((x) => !Number.isNaN(x)));
  const pinnedSmallestMs = firstTexts(pinnedStreams);
  const autoNoClimbMs = firstTexts(streams.filter((o) => o.trace.escalations === 0 && o.trace.model === smallest));
  return {
    task: task.entry.name,
    judge: name,
    bar,
    whole,
    streamed,
    firstText: { pinnedSmallestMs, autoMs: firstTexts(streams), autoNoClimbMs, addedMs: autoNoClimbMs - pinnedSmallestMs },
    climbedAfterText: streamed.textDiffersFromPinned,
  };
}
