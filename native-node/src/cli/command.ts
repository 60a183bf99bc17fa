/** One `rung-agent <name>` command; each lives in its own file under `commands/`. */
export interface Command {
  name: string;
  /** One line for the command list in `--help`. */
  summary: string;
  /** The full text of `rung-agent <name> --help`. */
  usage: string;
  /** Resolves with the process exit code. Throws UsageError for a bad command line. */
  run(args: string[]): Promise<number>;
}
