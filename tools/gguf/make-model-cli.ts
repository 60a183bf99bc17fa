/**
 * Write a seeded random llama GGUF model.
 *
 *   tsx tools/gguf/make-model-cli.ts --out path.gguf [--seed N] [--embd N] [--layers N]
 *       [--heads N] [--kv-heads N] [--ff N] [--ctx N] [--scale X] [--type f32|f16] [--name NAME]
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeTestModel } from "./make-test-model.ts";
import { parameterCount, type TestModelOptions } from "./test-model-options.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    seed: { type: "string" },
    embd: { type: "string" },
    layers: { type: "string" },
    heads: { type: "string" },
    "kv-heads": { type: "string" },
    ff: { type: "string" },
    ctx: { type: "string" },
    scale: { type: "string" },
    type: { type: "string" },
    name: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});

const usage =
  "usage: tsx tools/gguf/make-model-cli.ts --out path.gguf [--seed N] [--embd N] [--layers N] [--heads N] " +
  "[--kv-heads N] [--ff N] [--ctx N] [--scale X] [--type f32|f16] [--name NAME]";

if (values.help || !values.out) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}

/** parseArgs only yields strings; reject typos like "--embd 6x4" instead of producing NaN. */
function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n)) {
    console.error(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const type = values.type;
if (type !== undefined && type !== "f32" && type !== "f16") {
  console.error(`--type must be f32 or f16, got ${JSON.stringify(type)}`);
  process.exit(2);
}

const options: TestModelOptions = {
  seed: num("seed", values.seed),
  embeddingLength: num("embd", values.embd),
  layers: num("layers", values.layers),
  heads: num("heads", values.heads),
  kvHeads: num("kv-heads", values["kv-heads"]),
  feedForwardLength: num("ff", values.ff),
  contextLength: num("ctx", values.ctx),
  outputScale: num("scale", values.scale),
  type,
  name: values.name,
};
// Drop unset flags so the generator's defaults apply (e.g. kvHeads = heads).
for (const k of Object.keys(options) as Array<keyof TestModelOptions>) {
  if (options[k] === undefined) delete options[k];
}

const path = resolve(values.out);
try {
  await writeTestModel(path, options);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
const { size } = await stat(path);
console.log(`${path}\n  size: ${size} bytes (${(size / 1024 / 1024).toFixed(2)} MiB)\n  parameters: ${parameterCount(options)}`);
