import type { Command } from "../command.ts";
import { defaultModelsDir } from "../models/default-models-dir.ts";
import { listModels } from "../models/list-models.ts";
import { pullModel } from "../models/pull-model.ts";
import { removeModel } from "../models/remove-model.ts";
import { parseFlags } from "../start-options.ts";
import { UsageError } from "../usage-error.ts";

export const modelsUsage = `Usage: rung-agent models <pull|list|rm> [--dir <path>]

Manage the GGUF files in the models directory.

  models pull <uri>      Download hf:<user>/<repo>:<quant> (or an https:// URL), with a
                         progress bar; a file already there is reused. Prints its path.
  models list            Each .gguf file with size, parameter count and quantization,
                         read from the file's header (nothing is loaded).
  models rm <name>       Delete one file from the directory (.gguf may be left off);
                         paths outside the directory are refused.

Options:
  --dir <path>           The models directory. Default: ${defaultModelsDir()}
                         (node-llama-cpp's, where --model hf:... downloads land too).
  -h, --help             Show this help.

Examples:
  rung-agent models pull hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M
  rung-agent models list
  rung-agent models rm Qwen2.5-0.5B-Instruct-Q4_K_M.gguf`;

/** How many arguments each subcommand takes after its name. */
const ARITY = { pull: 1, list: 0, rm: 1 } as const;

export const modelsCommand: Command = {
  name: "models",
  summary: "pull, list and remove model files",
  usage: modelsUsage,
  run: (args) => runModels(args, (text) => process.stdout.write(text)),
};

/** The command with its output passed in, so tests run it in-process. */
export async function runModels(args: string[], write: (text: string) => void): Promise<number> {
  const { values, positionals } = parseFlags(args, { dir: { type: "string" }, help: { type: "boolean", short: "h" } }, true);
  const [sub, ...rest] = positionals;
  if (values.help) {
    write(`${modelsUsage}\n`);
    return 0;
  }
  if (sub === undefined) throw new UsageError("models needs a command: pull, list or rm (see rung-agent models --help)");
  if (!(sub in ARITY)) throw new UsageError(`unknown models command "${sub}"; use pull, list or rm`);
  const name = sub as keyof typeof ARITY;
  if (rest.length !== ARITY[name]) {
    throw new UsageError(
      ARITY[name] === 0
        ? `models ${name} takes no arguments`
        : `models ${name} takes exactly one argument: rung-agent models ${name} <${name === "pull" ? "uri" : "name"}>`,
    );
  }
  const dir = values.dir ?? defaultModelsDir();
  switch (name) {
    case "pull":
      return pullModel(dir, rest[0]!, write);
    case "list":
      return listModels(dir, write);
    case "rm":
      return removeModel(dir, rest[0]!, write);
  }
}
