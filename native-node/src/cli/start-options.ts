import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { idSchema, nodeNameSchema } from "@rung/shared/protocol";
import { defaultThreads } from "../engines/default-threads.ts";
import type { GpuOption } from "../engines/llama-cpp-engine.ts";
import type { ModelSource } from "../engines/load-model.ts";
import { parseModelFlag } from "./model-flag.ts";
import { UsageError } from "./usage-error.ts";

/** Everything `rung-agent start` needs, validated. */
export interface StartOptions {
  edge: string;
  models: ModelSource[];
  name: string;
  token: string | undefined;
  threads: number;
  gpu: GpuOption;
  slots: number;
  contextSize: number | undefined;
  drainTimeoutMs: number;
}

export const startFlags = {
  edge: { type: "string" },
  model: { type: "string", multiple: true, short: "m" },
  name: { type: "string" },
  token: { type: "string" },
  threads: { type: "string" },
  gpu: { type: "string" },
  slots: { type: "string" },
  "context-size": { type: "string" },
  "drain-timeout": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The hello frame caps a node at 32 models and 256 slots. */
const MAX_MODELS = 32;
const MAX_SLOTS = 256;
const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal", "false"] as const;

/** How to fix each flag, appended to its error. */
const EXAMPLES: Record<string, string> = {
  edge: "--edge http://127.0.0.1:8787 (or set RUNG_EDGE)",
  models: "--model ./model.gguf, --model hf:user/repo:Q4_K_M or --model my-id=./model.gguf",
  name: "--name lab-gpu-1",
  threads: "--threads 1",
  gpu: "--gpu auto",
  slots: "--slots 2",
  contextSize: "--context-size 4096",
  drainTimeout: "--drain-timeout 30",
};
const FLAG_OF: Record<string, string> = { models: "model", contextSize: "context-size", drainTimeout: "drain-timeout" };

const count = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const schema = z
  .object({
    edge: z
      .string({ error: (issue) => (issue.input === undefined ? "is required: the URL of the Rung edge" : "must be text") })
      .refine((value) => URL.canParse(value) && /^(https?|wss?):$/.test(new URL(value).protocol), "must be an http(s):// or ws(s):// URL"),
    models: z
      .array(z.string().min(1, "must not be empty"))
      .min(1, "is required: at least one model to serve")
      .max(MAX_MODELS, `can be given at most ${MAX_MODELS} times`)
      .transform((values) => values.map(parseModelFlag))
      .refine((models) => new Set(models.map((m) => m.id)).size === models.length, "gives the same model id twice; name them with id=path")
      .refine(
        (models) => models.every((m) => idSchema.safeParse(m.id).success),
        "gives a model id with spaces or other characters the edge refuses; name it with id=path (printable ASCII, no spaces)",
      ),
    name: nodeNameSchema.default(defaultName()),
    token: z.string().optional().transform((value) => value || undefined),
    threads: count(1, 1024).default(defaultThreads()),
    gpu: z
      .enum(GPU_CHOICES, { error: (issue) => `must be one of ${GPU_CHOICES.join(", ")} (got ${JSON.stringify(issue.input)})` })
      .default("auto")
      .transform((value): GpuOption => (value === "false" ? false : value)),
    slots: count(1, MAX_SLOTS).default(2),
    contextSize: count(16, 1 << 24).optional(),
    drainTimeout: z
      .string()
      .refine((value) => /^\d+(\.\d+)?$/.test(value), "must be a number of seconds")
      .transform(Number)
      .default(30),
  })
  .refine((o) => o.slots * o.models.length <= MAX_SLOTS, {
    path: ["slots"],
    message: `times the number of models must be at most ${MAX_SLOTS}`,
  });

/** The host's name as the edge accepts it. */
function defaultName(): string {
  return hostname().replace(/[^\x21-\x7e]/g, "-").slice(0, 64) || "rung-agent";
}

/**
 * Parse `start` flags (environment variables fill in --edge and --token).
 * Returns `"help"` for --help; throws UsageError naming the bad flag and how to fix it.
 */
export function parseStartOptions(args: string[], env: NodeJS.ProcessEnv = process.env): StartOptions | "help" {
  const { values } = parseFlags(args);
  if (values.help) return "help";
  const parsed = schema.safeParse({
    edge: values.edge ?? (env.RUNG_EDGE || undefined),
    models: values.model ?? [],
    name: values.name,
    token: values.token ?? env.RUNG_TOKEN,
    threads: values.threads,
    gpu: values.gpu,
    slots: values.slots,
    contextSize: values["context-size"],
    drainTimeout: values["drain-timeout"],
  });
  if (!parsed.success) {
    // Every bad flag at once, so fixing the command line takes one round, not one per flag.
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const example = EXAMPLES[key];
      return `--${FLAG_OF[key] ?? key} ${issue.message}${example ? `; e.g. ${example}` : ""}`;
    });
    throw new UsageError(lines.join("\n"));
  }
  const { drainTimeout, ...options } = parsed.data;
  return { ...options, contextSize: options.contextSize, drainTimeoutMs: Math.round(drainTimeout * 1000) };
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, options: startFlags, strict: true, allowPositionals: false });
  } catch (error) {
    // parseArgs explains itself well ("Unknown option '--gpus'"); keep its words, drop its stack.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}
