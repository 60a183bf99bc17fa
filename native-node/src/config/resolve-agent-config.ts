import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { parseModelFlag } from "../cli/model-flag.ts";
import { isEchoModel } from "../engines/create-echo-engine.ts";
import { isRemoteModel } from "../engines/resolve-model-path.ts";
import { ConfigError } from "./config-error.ts";
import { CONFIG_FIELDS, CONFIG_KEYS, type ConfigKey } from "./config-fields.ts";
import { defaultConfigPath } from "./default-config-path.ts";
import { type ConfigFileValues, readConfigFile } from "./read-config-file.ts";

/** Where one setting came from, so an error can name the place to fix it. */
export type ConfigSource = { kind: "flag" } | { kind: "env"; name: string } | { kind: "file"; path: string };

export interface ConfigInput {
  /** Values given as flags, by setting (`models` as the list of --model values). */
  flags: Partial<Record<ConfigKey, unknown>>;
  /** `--config <path>`; wins over RUNG_CONFIG and the default path. */
  configPath?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * Merge flags over environment variables over the config file (defaults come
 * from the schema), validate with `schema`, and throw one ConfigError listing
 * every bad setting by the flag, variable or `file:key` it came from.
 */
export function resolveAgentConfig<S extends z.ZodType>(schema: S, input: ConfigInput): z.output<S> {
  const filePath = input.configPath ?? (input.env.RUNG_CONFIG || undefined);
  const path = filePath ?? defaultConfigPath(input.env);
  // An explicitly named file must exist; the default one is used only when present.
  const file = path === undefined ? undefined : readConfigFile(path, filePath === undefined);
  const raw: Partial<Record<ConfigKey, unknown>> = {};
  const sources: Partial<Record<ConfigKey, ConfigSource>> = {};
  for (const key of CONFIG_KEYS) {
    const fromEnv = envValue(key, input.env);
    if (input.flags[key] !== undefined) {
      raw[key] = input.flags[key];
      sources[key] = { kind: "flag" };
    } else if (fromEnv !== undefined) {
      raw[key] = fromEnv.value;
      sources[key] = { kind: "env", name: fromEnv.name };
    } else if (file && path && file[key] !== undefined) {
      raw[key] = key === "models" ? fileModels(file, path) : file[key];
      sources[key] = { kind: "file", path };
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // Every bad setting at once, so fixing the configuration takes one round, not one per setting.
  const lines = parsed.error.issues.map((issue) => describeIssue(issue, sources));
  throw new ConfigError(lines.join("\n"));
}

function envValue(key: ConfigKey, env: NodeJS.ProcessEnv): { name: string; value: unknown } | undefined {
  const field = CONFIG_FIELDS[key];
  if (!("env" in field)) return undefined;
  const text = env[field.env];
  if (!text) return undefined;
  // RUNG_MODELS is a comma-separated list of --model values.
  const value =
    key === "models"
      ? text
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : text;
  return { name: field.env, value };
}

/** Relative model paths in the file are relative to the file, so a config directory can travel with its models. */
function fileModels(file: ConfigFileValues, path: string): unknown {
  const models = file.models;
  if (!Array.isArray(models)) return models;
  const base = dirname(path);
  const anchor = (model: string) => (isRemoteModel(model) || isEchoModel(model) || isAbsolute(model) ? model : resolve(base, model));
  return models.map((entry: unknown) => {
    if (typeof entry === "string" && entry) {
      const { id, path: modelPath } = parseModelFlag(entry);
      return { id, path: anchor(modelPath) };
    }
    if (typeof entry === "object" && entry !== null && "path" in entry && typeof entry.path === "string" && entry.path) {
      return { ...entry, path: anchor(entry.path) };
    }
    return entry;
  });
}

function describeIssue(issue: z.core.$ZodIssue, sources: Partial<Record<ConfigKey, ConfigSource>>): string {
  const key = String(issue.path[0] ?? "") as ConfigKey;
  const field = CONFIG_FIELDS[key];
  if (!field) return issue.message;
  const index = typeof issue.path[1] === "number" ? `[${issue.path[1]}]` : "";
  const source = sources[key];
  if (!source) {
    // Nothing gave it: say every way to give it.
    const env = "env" in field ? `, ${field.env}=${field.example}` : "";
    return `--${field.flag} ${issue.message}; e.g. --${field.flag} ${field.example}${env} or "${key}": ${field.json} in the config file`;
  }
  switch (source.kind) {
    case "flag":
      return `--${field.flag}${index} ${issue.message}; e.g. --${field.flag} ${field.example}`;
    case "env":
      return `${source.name}${index} ${issue.message}; e.g. ${source.name}=${field.example}`;
    case "file":
      return `file:${key}${index} ${issue.message} (in ${source.path}); e.g. "${key}": ${field.json}`;
  }
}
