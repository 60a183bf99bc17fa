/** The ladder's order, from `--rungs` or from the order models were tried in the traces. */
import { CalibrationRefusal } from "./calibration-refusal.ts";

export interface LadderOrder {
  /** Model ids, smallest rung first. */
  rungs: string[];
  /** How the order was found: `--rungs`, or inferred (and whether the traces left it ambiguous). */
  source: "given" | "inferred" | "guessed";
}

/**
 * The order the models were tried in, each trace's list being one climb: a model tried before
 * another sits below it. A topological order of those pairs; where the traces do not tell two
 * models apart (never tried in one request), the first seen goes lower and the order is `guessed`.
 */
export function inferLadder(climbs: readonly (readonly string[])[]): LadderOrder {
  const firstSeen = new Map<string, number>();
  const above = new Map<string, Set<string>>();
  for (const climb of climbs) {
    for (const model of climb) if (!firstSeen.has(model)) firstSeen.set(model, firstSeen.size);
    for (let i = 0; i < climb.length; i++) {
      for (let j = i + 1; j < climb.length; j++) {
        if (climb[i] === climb[j]) continue;
        const set = above.get(climb[i]!) ?? new Set<string>();
        set.add(climb[j]!);
        above.set(climb[i]!, set);
      }
    }
  }
  const below = new Map<string, number>([...firstSeen.keys()].map((m) => [m, 0]));
  for (const set of above.values()) for (const m of set) below.set(m, below.get(m)! + 1);
  const rungs: string[] = [];
  let guessed = false;
  const ready = () => [...below.entries()].filter(([, n]) => n === 0).map(([m]) => m);
  while (below.size > 0) {
    const candidates = ready().sort((a, b) => firstSeen.get(a)! - firstSeen.get(b)!);
    const next = candidates[0];
    if (next === undefined) {
      throw new CalibrationRefusal(
        `the traces try ${[...below.keys()].join(", ")} in contradicting orders (the ladder changed while they were recorded?); name the ladder with --rungs a,b,c`,
      );
    }
    if (candidates.length > 1) guessed = true;
    rungs.push(next);
    below.delete(next);
    for (const m of above.get(next) ?? []) if (below.has(m)) below.set(m, below.get(m)! - 1);
  }
  return { rungs, source: guessed ? "guessed" : "inferred" };
}

/** `--rungs a,b,c` checked against the models the sample names. */
export function givenLadder(rungs: readonly string[], named: Iterable<string>): LadderOrder {
  if (rungs.length < 2) throw new CalibrationRefusal("--rungs names at least two models, smallest first: --rungs a,b,c");
  if (new Set(rungs).size !== rungs.length) throw new CalibrationRefusal(`--rungs names a model twice: ${rungs.join(",")}`);
  const unknown = [...new Set(named)].filter((m) => !rungs.includes(m));
  if (unknown.length > 0)
    throw new CalibrationRefusal(`the sample names models --rungs does not: ${unknown.join(", ")} (--rungs ${rungs.join(",")})`);
  return { rungs: [...rungs], source: "given" };
}
