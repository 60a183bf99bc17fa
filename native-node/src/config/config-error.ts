import { UsageError } from "../cli/usage-error.ts";

/**
 * A setting from a flag, an environment variable or the config file is wrong.
 * A UsageError, so the CLI prints it and exits with code 2 like any bad flag.
 */
export class ConfigError extends UsageError {
  override readonly name: string = "ConfigError";
}
