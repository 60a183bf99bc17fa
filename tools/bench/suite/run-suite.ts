// `npm run bench`: Rung's edge measured side by side with a floor (the least Worker + Durable
// Object that relays a completion) and a peer (Portkey's gateway), on loopback, in one run.
// Prints markdown and writes the same figures to .cache/bench/suite-<date>.json.
//
//   ONLY=overhead,capacity npm run bench     (sections: overhead, legs, capacity, relay, idle, models)
//   Each section's env vars shorten it; see docs/benchmarks.md.
import { BenchRig } from "./bench-rig.ts";
import { capacitySection } from "./capacity-section.ts";
import { idleSection } from "./idle-section.ts";
import { legsSection } from "./legs-section.ts";
import { modelsSection } from "./models-section.ts";
import { overheadSection } from "./overhead-section.ts";
import { relaySection } from "./relay-section.ts";
import type { Section } from "./section.ts";
import { describeRun, writeRecord } from "./suite-record.ts";

const sections: Section[] = [overheadSection, legsSection, capacitySection, relaySection, idleSection, modelsSection];
const only = process.env.ONLY?.split(",").map((name) => name.trim());
const unknown = only?.filter((name) => !sections.some((section) => section.name === name)) ?? [];
if (unknown.length > 0)
  throw new Error(`ONLY names no section: ${unknown.join(", ")}; sections: ${sections.map((s) => s.name).join(", ")}`);
const chosen = sections.filter((section) => !only || only.includes(section.name));

const run = describeRun();
console.log(`# Rung edge benchmark suite\n`);
console.log(`${run.date}, commit ${run.commit.slice(0, 12)}${run.uncommittedChanges ? " (with uncommitted changes)" : ""}`);
console.log(
  `${run.machine.cpu}, ${run.machine.cores} cores, ${(run.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, load ${run.machine.loadAverage.join(" ")}`,
);
console.log(
  `node ${run.versions.node}, workerd ${run.versions.workerd}, wrangler ${run.versions.wrangler}, Portkey gateway ${run.versions.portkey}`,
);
console.log("Both edges: the bundle `wrangler deploy --dry-run` writes, in Miniflare's workerd on 127.0.0.1.");

const results: Record<string, unknown> = {};
const rig = new BenchRig();
// Interrupted, it still stops what it started: workerd, agents and gateways would outlive it.
process.once("SIGINT", () => void rig.dispose().finally(() => process.exit(130)));
const suiteStarted = Date.now();
try {
  for (const section of chosen) {
    console.log(`\n## ${section.title}\n`);
    const started = Date.now();
    try {
      const report = await section.run(rig);
      const seconds = (Date.now() - started) / 1000;
      console.log(`${report.markdown}\n\n(${seconds.toFixed(0)} s)`);
      results[section.name] = { ...report, seconds };
    } catch (error) {
      // One broken section must not cost the others' figures.
      console.log(`FAILED: ${(error as Error).stack ?? error}`);
      results[section.name] = { error: String(error) };
      process.exitCode = 1;
    }
  }
} finally {
  await rig.dispose();
}
console.log("\nThe ladder's workload (what escalation saves) is a separate run: `npm run bench:ladder`.");
const path = writeRecord({ ...run, seconds: (Date.now() - suiteStarted) / 1000, sections: results });
console.log(`Figures: ${path} (and .cache/bench/suite-latest.json)`);
