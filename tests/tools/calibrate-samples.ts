/** Samples for the calibrate tests: traces as the edge writes them, parsed as the command parses them. */
import { expect } from "vitest";
import type { CliIo } from "../../tools/calibrate/cli.ts";
import { parseSample, type SampleRecord } from "../../tools/calibrate/records.ts";

/** An attempt as the edge traces it; a score makes it judged (under `judge`, held to `bar`). */
export function attempt(model: string, outcome: string, score?: number, bar?: number, judge = "mean confidence") {
  return {
    model,
    node: "node-1",
    outcome,
    ms: 12,
    ...(score !== undefined && { confidence: { mean: score, min: score, judge, score, ...(bar !== undefined && { bar }) } }),
  };
}

export function trace(attempts: ReturnType<typeof attempt>[], profile: string | null = "balanced") {
  return {
    model: attempts.at(-1)!.model,
    node: "node-1",
    escalations: attempts.filter((a) => a.outcome === "escalated").length,
    ...(profile && { profile }),
    attempts,
  };
}

/** The lines as a file would hold them, parsed as the command parses them. */
export function sample(lines: unknown[]): SampleRecord[] {
  const { records, bad } = parseSample(lines.map((l) => JSON.stringify(l)).join("\n"), "sample.jsonl");
  expect(bad).toEqual([]);
  return records;
}

/**
 * Three rungs a → b → c, recorded with min_confidence 1 (every rung climbs, so every score is
 * known). Below the top iff a or b reaches the bar, so the highest score of a and b decides:
 * 0.99 0.97 0.90 0.85 0.50. Three of five (60%) below the top holds up to 0.90, where T1 stops
 * on a (0.95), T2 and T3 on b, T4 and T5 on c.
 */
export const threeRungs = [
  [0.95, 0.99],
  [0.8, 0.97],
  [0.6, 0.9],
  [0.4, 0.85],
  [0.2, 0.5],
].map(([a, b]) => trace([attempt("a", "escalated", a, 1), attempt("b", "escalated", b, 1), attempt("c", "answered", 0.5, 1)]));

/** The command's output and errors, line by line, with `stdin` to read. */
export function captureIo(stdin: string): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), readStdin: async () => stdin, env: {} };
}
