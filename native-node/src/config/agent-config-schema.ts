import { hostname } from "node:os";
import { idSchema, nodeNameSchema, poolNameSchema } from "@rung/shared/protocol";
import { z } from "zod";
import { parseModelFlag } from "../cli/model-flag.ts";
import { isEchoModel } from "../engines/create-echo-engine.ts";
import { defaultThreads } from "../engines/default-threads.ts";
import type { GpuOption } from "../engines/llama-cpp-engine.ts";
import type { ModelSource } from "../engines/load-model.ts";
import { TRANSPORTS } from "../link/agent-link.ts";
import type { LogFormat } from "../log/logger.ts";

/** The hello frame caps a node at 32 models and 256 slots. */
const MAX_MODELS = 32;
const MAX_SLOTS = 256;
const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal", "false"] as const;
const LOG_FORMATS = ["text", "json"] as const satisfies readonly LogFormat[];

/**
 * Flags and environment variables arrive as text, the config file as JSON
 * values; each field takes both, so one schema validates every source.
 */
const count = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );

const modelEntry = z.union(
  [
    z.string().min(1, "must not be empty").transform(parseModelFlag),
    z.strictObject({ id: z.string(), path: z.string().min(1, "must not be empty") }),
  ],
  { error: 'must be "path", "id=path" or {"id": ..., "path": ...}' },
);

const SIZE_MESSAGE = "must be a size with a unit, such as 8G or 512M";

const fields = {
  edge: z
    .string({ error: (issue) => (issue.input === undefined ? "is required: the URL of the Rung edge" : "must be text") })
    .refine((value) => URL.canParse(value) && /^(https?|wss?):$/.test(new URL(value).protocol), "must be an http(s):// or ws(s):// URL"),
  models: z
    .array(modelEntry, {
      error: (issue) => (issue.input === undefined ? "is required: at least one model to serve" : "must be a list of models"),
    })
    .min(1, "is required: at least one model to serve")
    .max(MAX_MODELS, `can be given at most ${MAX_MODELS} times`)
    .refine(
      (models: ModelSource[]) => new Set(models.map((m) => m.id)).size === models.length,
      "gives the same model id twice; name them with id=path",
    )
    .refine(
      (models: ModelSource[]) => models.every((m) => idSchema.safeParse(m.id).success),
      "gives a model id with spaces or other characters the edge refuses; name it with id=path (printable ASCII, no spaces)",
    )
    .refine(
      (models: ModelSource[]) => new Set(models.map((m) => isEchoModel(m.path))).size <= 1,
      "mixes echo: models with GGUF models; run one agent for each",
    ),
  name: nodeNameSchema.default(defaultName()),
  token: z
    .string({ error: "must be text" })
    .optional()
    .transform((value) => value || undefined),
  /** The pool to join; none: the pool the join token names, or the edge's default. */
  pool: poolNameSchema.optional(),
  threads: count(1, 1024).default(defaultThreads()),
  gpu: z.preprocess(
    // `"gpu": false` reads naturally in JSON; the flag spells it "false".
    (value) => (value === false ? "false" : value),
    z
      .enum(GPU_CHOICES, { error: (issue) => `must be one of ${GPU_CHOICES.join(", ")} (got ${JSON.stringify(issue.input)})` })
      .default("auto")
      .transform((value): GpuOption => (value === "false" ? false : value)),
  ),
  slots: count(1, MAX_SLOTS).default(2),
  contextSize: count(16, 1 << 24).optional(),
  drainTimeout: z
    .preprocess(
      (value) => (typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value),
      z.number({ error: "must be a number of seconds" }).min(0, "must be a number of seconds"),
    )
    .default(30),
  logFormat: z
    .enum(LOG_FORMATS, { error: (issue) => `must be one of ${LOG_FORMATS.join(", ")} (got ${JSON.stringify(issue.input)})` })
    .default("text"),
  memoryLimit: z
    .union(
      [
        // The config file may give bytes as a JSON number; flags and the environment always give text.
        z.number().int().positive(),
        z.string().transform((value, ctx) => {
          const bytes = parseSize(value);
          if (bytes !== undefined) return bytes;
          ctx.addIssue({ code: "custom", message: SIZE_MESSAGE });
          return z.NEVER;
        }),
      ],
      { error: SIZE_MESSAGE },
    )
    .optional(),
  transport: z
    .enum(TRANSPORTS, { error: (issue) => `must be one of ${TRANSPORTS.join(", ")} (got ${JSON.stringify(issue.input)})` })
    .default("auto"),
  publicUrl: z
    .string({ error: "must be text" })
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an http(s):// URL")
    .optional(),
  tunnelPort: count(1, 65_535).optional(),
  // Testing aids (see FaultInjectingEngine); both off unless set.
  faultFirstTokenDelayMs: count(0, 3_600_000).default(0),
  faultFailJobs: count(0, 1_000_000).default(0),
};

/**
 * `8G`, `512M`, `1.5GB`, `2048K`: decimal units (8G is 8,000,000,000 bytes), as
 * formatBytes prints them, so a limit reads back as given ("8.0 GB"). A bare
 * number is refused: whether `8` meant bytes or gigabytes is a guess.
 */
function parseSize(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT])B?$/i.exec(value.trim());
  if (!match) return undefined;
  const power = ["", "K", "M", "G", "T"].indexOf(match[2]!.toUpperCase());
  const bytes = Math.round(Number(match[1]) * 1000 ** power);
  return bytes > 0 ? bytes : undefined;
}

const slotsFitHello = {
  path: ["slots"],
  message: `times the number of models must be at most ${MAX_SLOTS}`,
};

/** What `start` needs: an edge and at least one model. */
export const agentConfigSchema = z.object(fields).refine((o) => o.slots * o.models.length <= MAX_SLOTS, slotsFitHello);

/** What `doctor` can check with: anything given is validated, but nothing is required. */
export const partialAgentConfigSchema = z
  .object(fields)
  .partial({ edge: true, models: true })
  .refine((o) => o.slots * (o.models?.length ?? 0) <= MAX_SLOTS, slotsFitHello);

export type AgentConfigData = z.output<typeof agentConfigSchema>;
export type PartialAgentConfigData = z.output<typeof partialAgentConfigSchema>;

/** The host's name as the edge accepts it. */
function defaultName(): string {
  return (
    hostname()
      .replace(/[^\x21-\x7e]/g, "-")
      .slice(0, 64) || "rung-agent"
  );
}
