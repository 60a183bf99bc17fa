/**
 * The trained task models and their held-out problems (tests/fixtures/trained/), or any
 * folder of the same shape (EVAL_FIXTURES), and the deterministic calibration/test split.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { repoRoot } from "../../tests/e2e/harness/paths.ts";

export const RUNGS = ["s", "m", "l"] as const;
export type RungName = (typeof RUNGS)[number];

export interface Problem {
  prompt: string;
  answer: string;
}

export interface TaskEntry {
  name: string;
  description: string;
  /** File name of the held-out problems, next to the manifest. */
  heldout: string;
}

export interface ModelEntry {
  id: string;
  task: string;
  rung: RungName;
  /** GGUF file, relative to the manifest (or absolute). */
  file: string;
  parameters: number;
  [more: string]: unknown;
}

export interface Manifest {
  tasks: TaskEntry[];
  models: ModelEntry[];
}

export interface Task {
  entry: TaskEntry;
  /** Ladder order: s, m, l. */
  rungs: (ModelEntry & { path: string })[];
  problems: Problem[];
}

export const defaultFixtures = join(repoRoot, "tests", "fixtures", "trained");

export function fixturesDir(): string {
  return process.env.EVAL_FIXTURES ? resolve(process.env.EVAL_FIXTURES) : defaultFixtures;
}

export async function loadTasks(dir = fixturesDir()): Promise<{ manifest: Manifest; tasks: Task[] }> {
  const manifestPath = join(dir, "manifest.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
  const tasks: Task[] = [];
  for (const entry of manifest.tasks) {
    const rungs = RUNGS.map((rung) => {
      const found = manifest.models.filter((m) => m.task === entry.name && m.rung === rung);
      if (found.length !== 1) throw new Error(`${manifestPath}: task ${entry.name} has ${found.length} models on rung ${rung}, expected 1`);
      return { ...found[0]!, path: resolve(dirname(manifestPath), found[0]!.file) };
    });
    const problems = JSON.parse(await readFile(join(dir, entry.heldout), "utf8")) as Problem[];
    if (!Array.isArray(problems) || problems.some((p) => typeof p.prompt !== "string" || typeof p.answer !== "string")) {
      throw new Error(`${entry.heldout}: expected [{prompt, answer}]`);
    }
    tasks.push({ entry, rungs, problems });
  }
  return { manifest, tasks };
}

/** FNV-1a, 32 bits: a stable hash of a prompt, the same on every machine and in every order. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/**
 * Calibration and test halves: problems ordered by the hash of their prompt (ties by prompt),
 * then dealt alternately. Depends only on the set of problems, never on file order or a
 * random generator; duplicates of one prompt are dropped so no prompt is in both halves.
 */
export function splitProblems(problems: readonly Problem[]): { calibration: Problem[]; test: Problem[] } {
  const unique = [...new Map(problems.map((p) => [p.prompt, p])).values()];
  const ordered = unique
    .map((p) => ({ p, h: fnv1a(p.prompt) }))
    .sort((a, b) => a.h - b.h || (a.p.prompt < b.p.prompt ? -1 : a.p.prompt > b.p.prompt ? 1 : 0))
    .map((x) => x.p);
  return { calibration: ordered.filter((_, i) => i % 2 === 0), test: ordered.filter((_, i) => i % 2 === 1) };
}
