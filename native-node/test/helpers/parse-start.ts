import { parseStartOptions, type StartOptions } from "../../src/cli/start-options.ts";
import { UsageError } from "../../src/cli/usage-error.ts";

/** `start`'s options for these arguments and environment (none by default, so no real file or env leaks in). */
export function parseStart(args: string[], env: NodeJS.ProcessEnv = {}): StartOptions {
  const options = parseStartOptions(args, env);
  if (options === "help") throw new Error("unexpected help");
  return options;
}

/** The UsageError (a ConfigError for bad settings) these arguments are refused with. */
export function startErrorOf(args: string[], env: NodeJS.ProcessEnv = {}): UsageError {
  try {
    parseStartOptions(args, env);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}
