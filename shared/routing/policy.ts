import { z } from "zod";
import { browserModelSchema } from "../protocol/donate-config.ts";
import { capabilitiesSchema, idSchema, nodeNameSchema } from "../protocol/messages.ts";
import { defaultBar, judgeSchema, SHIPPED_JUDGE } from "./judge.ts";
import { PROFILE_NAMES, type ProfileName } from "./profile-names.ts";
import { DEFAULT_PROFILE_WEIGHTS } from "./profile-weights.ts";
import { verificationSchema } from "./verification.ts";

/*
 * The operator's routing policy. Every field has a default so `{}` is a whole policy,
 * and every object is strict so a misspelt field is refused rather than silently ignored.
 * Nested objects use `.prefault({})`: in zod 4 `.default(x)` returns x unparsed, so
 * inner defaults would not apply.
 */

const weight = z.number().min(0).max(1000);
const confidence = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0).max(3_600_000);

function profileSchema(name: ProfileName) {
  const weights = DEFAULT_PROFILE_WEIGHTS[name];
  return z
    .object({
      quality: weight.default(weights.quality),
      latency: weight.default(weights.latency),
      cost: weight.default(weights.cost),
      context: weight.default(weights.context),
      /** Overrides `escalation.minMeanConfidence` for requests routed by this profile. */
      minMeanConfidence: confidence.optional(),
    })
    .strict()
    .prefault({});
}

const profilesSchema = z
  .object({
    quality: profileSchema("quality"),
    balanced: profileSchema("balanced"),
    speed: profileSchema("speed"),
    budget: profileSchema("budget"),
    long_context: profileSchema("long_context"),
  })
  .strict()
  .prefault({});

const escalationSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How the judged tokens are scored (judge.ts): one feature, or a logistic rule over several. */
    judge: judgeSchema.default(SHIPPED_JUDGE),
    /**
     * Climb when the judge's score of the first `windowTokens` tokens is below this (named for the
     * first judge, the mean). A bar is a number on its judge's scale, so its default is the judge's
     * own (`defaultBar`).
     */
    minMeanConfidence: confidence.optional(),
    /**
     * A bar per model id, for the judge's score of that model's answers; a model without one is held
     * to `minMeanConfidence`. Models differ in how sure they sound when wrong, so a cascade learns a
     * bar per model (FrugalGPT); `npm run calibrate` measures one from a model's own answers.
     */
    bars: z.record(idSchema, confidence).default({}),
    /** Climb when any single chunk in the window is below this; 0 turns the check off. */
    minTokenConfidence: confidence.default(0),
    windowTokens: z.number().int().min(1).max(4096).default(16),
    /** How long the edge holds the first chunks back before committing to a rung. */
    commitMs: milliseconds.default(500),
    maxClimbs: z.number().int().min(0).max(16).default(2),
    climbOnInvalidJson: z.boolean().default(true),
  })
  .strict()
  .transform((e) => ({ ...e, minMeanConfidence: e.minMeanConfidence ?? defaultBar(e.judge) }))
  .prefault({});

const preRoutingSchema = z
  .object({
    enabled: z.boolean().default(true),
    longPromptTokens: z.number().int().min(1).default(2000),
    code: z.boolean().default(true),
    math: z.boolean().default(true),
    multiStep: z.boolean().default(true),
    rungsUp: z.number().int().min(0).max(16).default(1),
  })
  .strict()
  .prefault({});

const breakerSchema = z
  .object({
    failureThreshold: z.number().int().min(1).max(1000).default(3),
    openMs: milliseconds.default(60_000),
  })
  .strict()
  .prefault({});

const retrySchema = z
  .object({
    maxRetries: z.number().int().min(0).max(16).default(2),
    baseDelayMs: milliseconds.default(50),
    maxDelayMs: milliseconds.default(2000),
  })
  .strict()
  .refine((r) => r.maxDelayMs >= r.baseDelayMs, { message: "maxDelayMs must be at least baseDelayMs", path: ["maxDelayMs"] })
  .prefault({});

const hedgeSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Hedge a first token slower than this percentile of the model's recent first tokens. */
    percentile: z.number().gt(0).max(1).default(0.95),
    minSamples: z.number().int().min(1).max(10_000).default(8),
    /** A fixed hedge delay instead of the percentile; null uses the percentile. */
    afterMs: milliseconds.nullable().default(null),
    minDelayMs: milliseconds.default(250),
  })
  .strict()
  .prefault({});

const queueSchema = z
  .object({
    maxLength: z.number().int().min(0).max(100_000).default(64),
    maxWaitMs: milliseconds.default(15_000),
    /**
     * For this long after a model's last node left, a request for it waits in the queue
     * (up to `maxWaitMs`) for a node to come back, then gets 503 with Retry-After, rather
     * than 404; 0 turns the wait off.
     */
    awaitReturnMs: milliseconds.default(60_000),
  })
  .strict()
  .prefault({});

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Keys travel to this URL, so only TLS, except to a server on this machine; no credentials or query hidden in it. */
const baseUrlSchema = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
    return;
  }
  const problem =
    url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))
      ? "must be https (http only for 127.0.0.1, localhost or [::1])"
      : url.username || url.password
        ? "must not carry credentials (name the key with keySecret)"
        : url.search || url.hash || text.includes("?") || text.includes("#")
          ? "must not carry a query or fragment"
          : undefined;
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const upstreamModelSchema = z
  .object({
    /** The id clients and the ladder see. */
    id: idSchema,
    /** The id the upstream API expects, when it differs. */
    upstreamModel: idSchema.optional(),
    parameters: z.number().int().positive().max(1e13),
    contextLength: z
      .number()
      .int()
      .positive()
      .max(1 << 24),
    pricePerMillionTokens: z.number().min(0).max(1e6).optional(),
    quality: z.number().min(0).max(100).optional(),
    capabilities: capabilitiesSchema.strict().optional(),
  })
  .strict();

const upstreamSchema = z
  .object({
    name: nodeNameSchema,
    baseUrl: baseUrlSchema,
    /** Name of the Worker secret (env var) holding the bearer key; never the key itself. */
    keySecret: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name")
      // The edge's own secrets never leave it: a policy must not send the API keys or the join token to a URL it names.
      .refine((name) => !name.startsWith("RUNG_") || name.startsWith("RUNG_UPSTREAM_"), "must not name one of the edge's own RUNG_ secrets")
      .optional(),
    slots: z.number().int().min(1).max(1024).default(16),
    models: z.array(upstreamModelSchema).min(1).max(32),
  })
  .strict();

/**
 * The donate page (`/donate`): whether browser tabs may join the pool through its
 * open entrance, and which models it offers them. Bounds match `donateConfigSchema`,
 * so every policy makes a config the page accepts.
 */
const donateSchema = z
  .object({
    /** False closes `/donate/connect` (403) and the page offers nothing; tabs already joined stay. */
    acceptPublicNodes: z.boolean().default(true),
    /** GGUF files a tab without WebGPU may load with wllama, in the order the page offers them (smallest first). */
    ggufModels: z.array(browserModelSchema).max(32).default([]),
    /** WebLLM prebuilt model ids a WebGPU tab may choose from; empty means any that fits. */
    webllmModels: z.array(idSchema).max(256).default([]),
  })
  .strict()
  .prefault({});

/** `*`, or an origin exactly as a browser sends it: scheme, host and port, nothing after. */
const originSchema = z.string().refine((text) => {
  if (text === "*") return true;
  return URL.canParse(text) && new URL(text).origin === text;
}, "must be '*' or an origin such as https://app.example.com (no path or trailing slash)");

/** Browser clients: which web pages may call the API from a visitor's browser (CORS). Read from the `main` pool's policy. */
const corsSchema = z
  .object({
    allowedOrigins: z.array(originSchema).max(64).default([]),
  })
  .strict()
  .prefault({});

export const policySchema = z
  .object({
    defaultProfile: z.enum(PROFILE_NAMES).default("balanced"),
    profiles: profilesSchema,
    escalation: escalationSchema,
    preRouting: preRoutingSchema,
    breaker: breakerSchema,
    retry: retrySchema,
    hedge: hedgeSchema,
    queue: queueSchema,
    /** Operator scores (0..100, MMLU-like) that override the shipped quality table. */
    quality: z.record(idSchema, z.number().min(0).max(100)).default({}),
    /** USD per million tokens, by model id. */
    prices: z.record(idSchema, z.number().min(0).max(1e6)).default({}),
    upstreams: z.array(upstreamSchema).max(16).default([]),
    donate: donateSchema,
    /** Checking public nodes' greedy answers against trusted nodes, and quarantining those that differ. */
    verification: verificationSchema,
    cors: corsSchema,
  })
  .strict()
  .superRefine((policy, ctx) => {
    const refuseDuplicates = (values: readonly string[], what: string, pathOf: (index: number) => (string | number)[]) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        if (seen.has(value)) ctx.addIssue({ code: "custom", message: `duplicate ${what} '${value}'`, path: pathOf(index) });
        seen.add(value);
      });
    };
    refuseDuplicates(
      policy.upstreams.map((u) => u.name),
      "upstream name",
      (i) => ["upstreams", i, "name"],
    );
    // Two downloads under one id would make one catalog model with different weights behind it.
    refuseDuplicates(
      policy.donate.ggufModels.map((m) => m.id),
      "model id",
      (i) => ["donate", "ggufModels", i, "id"],
    );
    refuseDuplicates(policy.donate.webllmModels, "model id", (i) => ["donate", "webllmModels", i]);
  });

export type Policy = z.infer<typeof policySchema>;
export type ProfileSettings = Policy["profiles"][ProfileName];
export type PreRoutingSettings = Policy["preRouting"];
export type UpstreamSettings = Policy["upstreams"][number];

export const DEFAULT_POLICY: Policy = policySchema.parse({});

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; message: string };

/** Validates an operator's policy; the message names each bad field as a dotted path. */
export function parsePolicy(input: unknown): PolicyResult {
  const result = policySchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  const message = result.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`).join("; ");
  return { ok: false, message };
}

/** The same, from JSON text (the `RUNG_POLICY` variable or an admin PUT body). */
export function parsePolicyJson(text: string): PolicyResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `policy is not valid JSON: ${(error as Error).message}` };
  }
  return parsePolicy(input);
}

function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "policy";
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`)).join("");
}
