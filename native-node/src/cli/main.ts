import type { Command } from "./command.ts";
import { doctorCommand } from "./commands/doctor-command.ts";
import { modelsCommand } from "./commands/models-command.ts";
import { startCommand, startUsage } from "./commands/start-command.ts";
import { UsageError } from "./usage-error.ts";

const commands: readonly Command[] = [startCommand, doctorCommand, modelsCommand];
/** A bare `rung-agent --edge ... --model ...` means `start`. */
const defaultCommand = startCommand;
const HELP = ["help", "--help", "-h"];

/** Run the CLI; resolves with the exit code (2 for a bad command line or configuration). */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first !== undefined && HELP.includes(first)) return printHelp(rest[0]);
    if (first === undefined || first.startsWith("-")) return await defaultCommand.run([...argv]);
    const command = findCommand(first);
    return await command.run(rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const lines = error.message.split("\n").map((line) => `rung-agent: ${line}\n`);
    process.stderr.write(`${lines.join("")}Run "rung-agent --help" for usage.\n`);
    return 2;
  }
}

function findCommand(name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"; commands: ${commands.map((c) => c.name).join(", ")}`);
  return command;
}

/** `rung-agent --help`: start's options (the default command) and the command list; `help <command>`: that command's. */
function printHelp(name: string | undefined): number {
  if (name !== undefined) {
    process.stdout.write(`${findCommand(name).usage}\n`);
    return 0;
  }
  const list = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n");
  process.stdout.write(`${startUsage}\n\nCommands:\n${list}\n\nRun "rung-agent <command> --help" for a command's options.\n`);
  return 0;
}
