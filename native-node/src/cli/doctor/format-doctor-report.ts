import { formatBytes } from "../../engines/format-bytes.ts";
import type { DoctorReport } from "./doctor-report.ts";

/**
 * The readable report: a header with versions and the machine, then one
 * `ok` / `FAIL` line per check (plain words rather than ✓/✗, so it reads the
 * same in journald, over ssh and in a log file), a fix under each failure.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const { versions, system } = report;
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = [
    "rung-agent doctor",
    `  node ${versions.node}, rung-agent ${versions.rungAgent}, node-llama-cpp ${versions.nodeLlamaCpp}`,
    `  ${system.cpuCores} CPU cores, ${formatBytes(system.freeRamBytes)} free of ${formatBytes(system.totalRamBytes)} RAM`,
    "",
  ];
  for (const check of report.checks) {
    lines.push(`${check.ok ? "ok  " : "FAIL"}  ${check.name.padEnd(width)}  ${check.detail}`);
    if (!check.ok && check.fix) lines.push(`      ${" ".repeat(width)}  fix: ${check.fix}`);
  }
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push("", failed === 0 ? `All ${report.checks.length} checks passed.` : `${failed} of ${report.checks.length} checks failed.`);
  return `${lines.join("\n")}\n`;
}
