import { parseArgs } from "node:util";
import { type AgentConfigData, agentConfigSchema } from "../config/agent-config-schema.ts";
import type { ConfigKey } from "../config/config-fields.ts";
import { resolveAgentConfig } from "../config/resolve-agent-config.ts";
import type { Faults } from "../engines/fault-injecting-engine.ts";
import type { GpuOption } from "../engines/llama-cpp-engine.ts";
import type { ModelSource } from "../engines/load-model.ts";
import type { Transport } from "../link/agent-link.ts";
import type { LogFormat } from "../log/logger.ts";
import { UsageError } from "./usage-error.ts";

/** Everything `rung-agent start` needs, validated. */
export interface StartOptions {
  edge: string;
  models: ModelSource[];
  name: string;
  token: string | undefined;
  /** The pool to join; undefined: the one the join token names (or the edge's default). */
  pool: string | undefined;
  threads: number;
  gpu: GpuOption;
  slots: number;
  contextSize: number | undefined;
  drainTimeoutMs: number;
  logFormat: LogFormat;
  /** Bytes all models may use together; undefined: what is free at start. */
  memoryLimitBytes: number | undefined;
  transport: Transport;
  publicUrl: string | undefined;
  tunnelPort: number | undefined;
  /** Testing aids; zero when off. */
  faults: Required<Faults>;
}

/** The flags of every setting; `start` and `doctor` both take them. */
export const configFlags = {
  config: { type: "string" },
  edge: { type: "string" },
  model: { type: "string", multiple: true, short: "m" },
  name: { type: "string" },
  token: { type: "string" },
  pool: { type: "string" },
  threads: { type: "string" },
  gpu: { type: "string" },
  slots: { type: "string" },
  "context-size": { type: "string" },
  "drain-timeout": { type: "string" },
  "log-format": { type: "string" },
  "memory-limit": { type: "string" },
  transport: { type: "string" },
  "public-url": { type: "string" },
  "tunnel-port": { type: "string" },
  "fault-first-token-delay-ms": { type: "string" },
  "fault-fail-jobs": { type: "string" },
} as const;

export const startFlags = { ...configFlags, help: { type: "boolean", short: "h" } } as const;

type ConfigFlagValues = { [K in keyof typeof configFlags]?: (typeof configFlags)[K] extends { multiple: true } ? string[] : string };

/** The settings given as flags, keyed like the config file. */
export function settingsFromFlags(values: ConfigFlagValues): {
  flags: Partial<Record<ConfigKey, unknown>>;
  configPath: string | undefined;
} {
  return {
    configPath: values.config,
    flags: {
      edge: values.edge,
      models: values.model,
      name: values.name,
      token: values.token,
      pool: values.pool,
      threads: values.threads,
      gpu: values.gpu,
      slots: values.slots,
      contextSize: values["context-size"],
      drainTimeout: values["drain-timeout"],
      logFormat: values["log-format"],
      memoryLimit: values["memory-limit"],
      transport: values.transport,
      publicUrl: values["public-url"],
      tunnelPort: values["tunnel-port"],
      faultFirstTokenDelayMs: values["fault-first-token-delay-ms"],
      faultFailJobs: values["fault-fail-jobs"],
    },
  };
}

/**
 * Parse `start` flags over the environment (RUNG_EDGE, RUNG_TOKEN, ...) over
 * the config file. Returns `"help"` for --help; throws a UsageError
 * (ConfigError) naming each bad setting where it came from and how to fix it.
 */
export function parseStartOptions(args: string[], env: NodeJS.ProcessEnv = process.env): StartOptions | "help" {
  const { values } = parseFlags(args, startFlags);
  if (values.help) return "help";
  const config = resolveAgentConfig(agentConfigSchema, { ...settingsFromFlags(values), env });
  return toStartOptions(config);
}

function toStartOptions({ drainTimeout, memoryLimit, faultFirstTokenDelayMs, faultFailJobs, ...config }: AgentConfigData): StartOptions {
  // Absent optional keys stay absent in zod's output; StartOptions spells them out.
  return {
    ...config,
    token: config.token,
    pool: config.pool,
    contextSize: config.contextSize,
    drainTimeoutMs: Math.round(drainTimeout * 1000),
    memoryLimitBytes: memoryLimit,
    publicUrl: config.publicUrl,
    tunnelPort: config.tunnelPort,
    faults: { firstTokenDelayMs: faultFirstTokenDelayMs, failJobs: faultFailJobs },
  };
}

/** `parseArgs` in strict mode, its errors turned into UsageErrors. */
export function parseFlags<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    // parseArgs explains itself well ("Unknown option '--gpus'"); keep its words, drop its stack.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}
