import { readFileSync } from "node:fs";
import { closestKey } from "./closest-key.ts";
import { ConfigError } from "./config-error.ts";
import { CONFIG_KEYS, type ConfigKey } from "./config-fields.ts";

/** The settings a config file gives, unvalidated except for its keys. */
export type ConfigFileValues = Partial<Record<ConfigKey, unknown>>;

/**
 * Read a JSON config file. Unknown keys are an error naming them: a typo such
 * as `"thread": 1` would otherwise be ignored without a word.
 * Returns undefined when `optional` and the file does not exist. Synchronous:
 * it runs once at startup, before anything else could use the event loop.
 */
export function readConfigFile(path: string, optional: boolean): ConfigFileValues | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (optional && code === "ENOENT") return undefined;
    throw new ConfigError(
      `config file ${path} cannot be read (${code ?? String(error)}); check the path given by --config or RUNG_CONFIG`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError(`config file ${path} must hold a JSON object such as {"edge": "https://...", "models": ["./model.gguf"]}`);
  }
  const unknown = Object.keys(json).filter((key) => !(CONFIG_KEYS as string[]).includes(key));
  if (unknown.length > 0) {
    const list = unknown
      .map((key) => {
        const meant = closestKey(key, CONFIG_KEYS);
        return meant ? `file:${key} (did you mean ${meant}?)` : `file:${key}`;
      })
      .join(", ");
    throw new ConfigError(
      `${list} ${unknown.length === 1 ? "is not a setting" : "are not settings"} (in ${path}); the settings are ${CONFIG_KEYS.join(", ")}`,
    );
  }
  return json as ConfigFileValues;
}
