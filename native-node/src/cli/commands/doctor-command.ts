import { partialAgentConfigSchema } from "../../config/agent-config-schema.ts";
import { resolveAgentConfig } from "../../config/resolve-agent-config.ts";
import type { Command } from "../command.ts";
import { configUsage } from "../config-usage.ts";
import { buildDoctorReport } from "../doctor/doctor-report.ts";
import { formatDoctorReport } from "../doctor/format-doctor-report.ts";
import { configFlags, parseFlags, settingsFromFlags } from "../start-options.ts";

export const doctorUsage = `Usage: rung-agent doctor [--json] [settings]

Check that this machine can serve: versions, CPU, RAM, GPU backend and VRAM;
for each configured model whether the file is there, what it is and whether it
fits in free memory, or --memory-limit as start plans with it (estimated from the
file, nothing is loaded); whether the edge answers over HTTPS and accepts this
node's WebSocket with its token (closed at once, before any hello, so the edge
registers nothing); and the clock skew to the edge. Reads the same settings as start; none is required.

Exit code: 0 when every check passes, 1 otherwise.

Options:
  --json                 Print the report as JSON on stdout.
  -h, --help             Show this help.

${configUsage}`;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check the GPU, models, edge, token and clock; exit 1 on any failure",
  usage: doctorUsage,
  run: (args) => runDoctor(args, process.env, (text) => process.stdout.write(text)),
};

/** The command with its environment and output passed in, so tests run it in-process. */
export async function runDoctor(args: string[], env: NodeJS.ProcessEnv, write: (text: string) => void): Promise<number> {
  const { values } = parseFlags(args, { ...configFlags, json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    write(`${doctorUsage}\n`);
    return 0;
  }
  const config = resolveAgentConfig(partialAgentConfigSchema, { ...settingsFromFlags(values), env });
  const report = await buildDoctorReport(config);
  write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
  return report.ok ? 0 : 1;
}
