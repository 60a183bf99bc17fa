import { join } from "node:path";

/**
 * Where the agent looks for its config file when neither `--config` nor
 * RUNG_CONFIG names one: `$XDG_CONFIG_HOME/rung/agent.json`, else
 * `$HOME/.config/rung/agent.json`. Read from `env` only (not `os.homedir()`),
 * so a caller that passes an empty environment gets no file at all.
 */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "rung", "agent.json");
  if (env.HOME) return join(env.HOME, ".config", "rung", "agent.json");
  return undefined;
}
