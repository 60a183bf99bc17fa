/**
 * Every setting the agent takes, with its name in each source. One table, so
 * the flag, the environment variable and the config file key cannot drift apart.
 */
export interface ConfigField {
  /** The long flag, without `--`. */
  flag: string;
  /** The environment variable, when the setting has one. */
  env?: string;
  /** A flag or env value that works, for the fix hint. */
  example: string;
  /** The same as a JSON value, for the fix hint of the config file. */
  json: string;
}

export const CONFIG_FIELDS = {
  edge: { flag: "edge", env: "RUNG_EDGE", example: "http://127.0.0.1:8787", json: '"http://127.0.0.1:8787"' },
  token: { flag: "token", env: "RUNG_TOKEN", example: "<join token>", json: '"<join token>"' },
  name: { flag: "name", env: "RUNG_NAME", example: "lab-gpu-1", json: '"lab-gpu-1"' },
  models: {
    flag: "model",
    env: "RUNG_MODELS",
    example: "./model.gguf, hf:user/repo:Q4_K_M or my-id=./model.gguf",
    json: '["my-id=./model.gguf", { "id": "big", "path": "hf:user/repo:Q4_K_M" }]',
  },
  pool: { flag: "pool", env: "RUNG_POOL", example: "lab", json: '"lab"' },
  threads: { flag: "threads", env: "RUNG_THREADS", example: "1", json: "1" },
  gpu: { flag: "gpu", env: "RUNG_GPU", example: "auto", json: '"auto"' },
  slots: { flag: "slots", env: "RUNG_SLOTS", example: "2", json: "2" },
  contextSize: { flag: "context-size", example: "4096", json: "4096" },
  drainTimeout: { flag: "drain-timeout", example: "30", json: "30" },
  logFormat: { flag: "log-format", env: "RUNG_LOG_FORMAT", example: "json", json: '"json"' },
  memoryLimit: { flag: "memory-limit", env: "RUNG_MEMORY_LIMIT", example: "8G", json: '"8G"' },
  transport: { flag: "transport", env: "RUNG_TRANSPORT", example: "auto", json: '"auto"' },
  publicUrl: { flag: "public-url", env: "RUNG_PUBLIC_URL", example: "https://node.example.com", json: '"https://node.example.com"' },
  tunnelPort: { flag: "tunnel-port", env: "RUNG_TUNNEL_PORT", example: "8788", json: "8788" },
  faultFirstTokenDelayMs: { flag: "fault-first-token-delay-ms", env: "RUNG_FAULT_FIRST_TOKEN_DELAY_MS", example: "2000", json: "2000" },
  faultFailJobs: { flag: "fault-fail-jobs", env: "RUNG_FAULT_FAIL_JOBS", example: "3", json: "3" },
} as const satisfies Record<string, ConfigField>;

export type ConfigKey = keyof typeof CONFIG_FIELDS;

export const CONFIG_KEYS = Object.keys(CONFIG_FIELDS) as ConfigKey[];
