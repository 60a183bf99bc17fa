import { readFileSync } from "node:fs";
import { availableParallelism, freemem, totalmem } from "node:os";
import { getModuleVersion } from "node-llama-cpp";
import type { PartialAgentConfigData } from "../../config/agent-config-schema.ts";
import { checkEdge, type EdgeFacts } from "./check-edge.ts";
import { checkGpu, type GpuFacts } from "./check-gpu.ts";
import { checkModels } from "./check-models.ts";
import type { DoctorCheck } from "./doctor-check.ts";

/** Everything `rung-agent doctor` found; `--json` prints it as is. */
export interface DoctorReport {
  ok: boolean;
  versions: { node: string; rungAgent: string; nodeLlamaCpp: string };
  system: { cpuCores: number; freeRamBytes: number; totalRamBytes: number; gpu?: GpuFacts };
  edge: EdgeFacts;
  checks: DoctorCheck[];
}

/** Run every check; each failure is in the report, none throws. */
export async function buildDoctorReport(config: PartialAgentConfigData): Promise<DoctorReport> {
  const gpu = await checkGpu(config.gpu);
  const models = await checkModels(
    config.models ?? [],
    { slots: config.slots, contextSize: config.contextSize, memoryLimitBytes: config.memoryLimit },
    gpu.llama,
  );
  const edge = await checkEdge(config.edge, config.token, config.pool);
  const checks = [gpu.check, ...models, ...edge.checks];
  return {
    ok: checks.every((c) => c.ok),
    versions: { node: process.version, rungAgent: agentVersion(), nodeLlamaCpp: await getModuleVersion() },
    system: {
      cpuCores: availableParallelism(),
      freeRamBytes: freemem(),
      totalRamBytes: totalmem(),
      ...(gpu.facts ? { gpu: gpu.facts } : {}),
    },
    edge: edge.facts,
    checks,
  };
}

function agentVersion(): string {
  const json: unknown = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  const version = (json as { version?: unknown }).version;
  return typeof version === "string" ? version : "unknown";
}
