/** The command line asks for something impossible; the agent prints the reason and exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
