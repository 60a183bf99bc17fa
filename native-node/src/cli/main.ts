import type { Command } from "./command.ts";
import { startCommand, startUsage } from "./commands/start-command.ts";
import { UsageError } from "./usage-error.ts";

const commands: readonly Command[] = [startCommand];
/** A bare `rung-agent --edge ... --model ...` means `start`. */
const defaultCommand = startCommand;

/** Run the CLI; resolves with the exit code (2 for a bad command line). */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === "help") return printHelp();
    if (first === undefined || first.startsWith("-")) return await defaultCommand.run([...argv]);
    const command = commands.find((c) => c.name === first);
    if (!command) throw new UsageError(`unknown command "${first}"; commands: ${commands.map((c) => c.name).join(", ")}`);
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const lines = error.message.split("\n").map((line) => `rung-agent: ${line}\n`);
    process.stderr.write(`${lines.join("")}Run "rung-agent --help" for usage.\n`);
    return 2;
  }
}

function printHelp(): number {
  const list = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n");
  process.stdout.write(`${startUsage}\n\nCommands:\n${list}\n`);
  return 0;
}
