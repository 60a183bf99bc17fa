import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";

/** Where a run's figures go: one file per run and the latest beside them. */
const recordDir = join(repoRoot, ".cache", "bench");

/** What a figure depends on besides the code: the machine, the versions, the tree. */
export function describeRun() {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
  return {
    date: new Date().toISOString(),
    commit: git("rev-parse", "HEAD"),
    /** Whether the tree had changes not in that commit (the bundles are built from the tree). */
    uncommittedChanges: git("status", "--porcelain").length > 0,
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryBytes: totalmem(),
      loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
    },
    versions: {
      node: process.version,
      workerd: packageVersion("workerd"),
      miniflare: packageVersion("miniflare"),
      wrangler: packageVersion("wrangler"),
      portkey: packageVersion("@portkey-ai/gateway"),
      autocannon: packageVersion("autocannon"),
    },
  };
}

/** Writes the record as `suite-<date>.json` and `suite-latest.json`; returns the first path. */
export function writeRecord(record: { date: string } & Record<string, unknown>): string {
  mkdirSync(recordDir, { recursive: true });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const path = join(recordDir, `suite-${record.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, text);
  writeFileSync(join(recordDir, "suite-latest.json"), text);
  return path;
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}
