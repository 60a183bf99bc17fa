/** The command line asks for something impossible; the agent prints the reason and exits with code 2. */
export class UsageError extends Error {
  // Typed as string so subclasses (ConfigError) can name themselves.
  override readonly name: string = "UsageError";
}
