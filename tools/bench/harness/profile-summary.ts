import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";
import type { CpuProfile } from "./cpu-profiler.ts";

/** A row of the summary: where the time went, in ms of the profile. */
export interface ProfileRow {
  where: string;
  /** Time in this place itself. */
  self: number;
  /** Time in this place or below it. */
  total: number;
}

export interface ProfileSummary {
  /** Time the isolate's thread was not idle, ms. */
  busyMs: number;
  idleMs: number;
  functions: ProfileRow[];
  files: ProfileRow[];
}

/** What V8 names the time it spends outside JavaScript; kept as is, they are no source place. */
const NATIVE = /^\((program|garbage collector|idle|root)\)$/;

/**
 * Sums a profile's samples per function and per source file, mapped from the
 * bundle back to the repository's files (and packages) through its source map.
 */
export function summarizeProfile(profile: CpuProfile, bundle: string): ProfileSummary {
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8")));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const placeOf = new Map<number, { fn: string; file: string }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (NATIVE.test(name) || !url || lineNumber < 0) placeOf.set(node.id, { fn: name, file: NATIVE.test(name) ? name : "(native)" });
    else {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number };
      const file = entry.originalSource ? sourceName(entry.originalSource, dirname(bundle)) : "(bundle)";
      placeOf.set(node.id, { fn: `${name} ${file}:${(entry.originalLine ?? 0) + 1}`, file });
    }
  }

  // Each sample lasts until the next one, as DevTools reads a profile (V8's sampling interval is not exact).
  const timeOf = new Map<number, number>();
  for (const [i, sample] of profile.samples.entries())
    timeOf.set(sample, (timeOf.get(sample) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  const functions = new Map<string, ProfileRow>();
  const files = new Map<string, ProfileRow>();
  const row = (rows: Map<string, ProfileRow>, where: string) =>
    rows.get(where) ?? rows.set(where, { where, self: 0, total: 0 }).get(where)!;
  let idleMs = 0;
  let allMs = 0;
  for (const [id, count] of timeOf) {
    const place = placeOf.get(id)!;
    allMs += count;
    if (place.fn === "(idle)") idleMs += count;
    row(functions, place.fn).self += count;
    row(files, place.file).self += count;
    // Inclusive time: once per place on the stack, however deep the recursion.
    const seenFns = new Set<string>();
    const seenFiles = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { fn, file } = placeOf.get(byId.get(at)!.id)!;
      if (!seenFns.has(fn)) row(functions, fn).total += count;
      if (!seenFiles.has(file)) row(files, file).total += count;
      seenFns.add(fn);
      seenFiles.add(file);
    }
  }
  const busyMs = allMs - idleMs;
  const rows = (all: Map<string, ProfileRow>) => [...all.values()].filter((r) => !/^\((idle|root)\)/.test(r.where));
  return { busyMs, idleMs, functions: rows(functions), files: rows(files) };
}

/** A repository path, or `<package>` for code from node_modules. */
function sourceName(source: string, bundleDir: string): string {
  const named = source.replace(/^file:\/\//, "");
  const path = isAbsolute(named) ? named : resolve(bundleDir, named);
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return inPackage ? `<${inPackage[1]}>` : relative(repoRoot, path);
}
