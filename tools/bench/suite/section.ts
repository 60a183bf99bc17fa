import type { BenchRig } from "./bench-rig.ts";

/** What a section hands the runner: markdown to print and the same figures for the JSON record. */
export interface SectionReport {
  markdown: string;
  /** The settings the figures were measured with. */
  parameters: Record<string, unknown>;
  figures: unknown;
}

export interface Section {
  /** The name `ONLY=` selects it by. */
  name: string;
  title: string;
  run(rig: BenchRig): Promise<SectionReport>;
}

/** A number from the environment, or the default (a short run sets these). */
export function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** A comma list of numbers from the environment, e.g. CONNECTIONS=1,8,32. */
export function envNumbers(name: string, fallback: readonly number[]): number[] {
  const text = process.env[name];
  return text ? text.split(",").map((part) => envNumberOf(name, part)) : [...fallback];
}

function envNumberOf(name: string, text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must list positive numbers`);
  return value;
}

/** Progress on stderr, so stdout stays the report. */
export function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}
