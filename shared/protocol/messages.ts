// Whole on purpose: the one module of every frame's schema, which nodes and the edge share; its helpers live beside it.
import { z } from "zod";
import { wireErrorSchema } from "./wire-error.ts";

/**
 * The wire protocol between a node (browser tab or native agent) and the edge.
 * Every frame is one JSON object whose `type` selects its schema.
 * Major versions are incompatible; minor versions only add optional fields.
 */
export const PROTOCOL_VERSION = "1.7";

/** The first minor version whose edge accepts `heartbeat` frames; a node sends none to an older edge. */
export const HEARTBEAT_SINCE_MINOR = 1;

/** The first minor version whose edge reads `confidences` in `chunk` frames; a node batches tokens only for such an edge. */
export const BATCHED_CHUNKS_SINCE_MINOR = 4;

/**
 * The first minor version whose edge may ask for `tokenSignals` in a `job` and reads
 * `margins` and `entropies` in `chunk` frames; a node sends them only to such an edge.
 */
export const TOKEN_SIGNALS_SINCE_MINOR = 7;

/** The fastest decoding a node may announce or report; a node that measured more (an echo engine) reports this. */
export const MAX_TOKENS_PER_SECOND = 1e6;

export const NodeKind = { native: "native", browser: "browser" } as const;

/**
 * Who vouches for a node. `private`: it joined with the pool's join token (an
 * owner's machine). `public`: a donated browser tab from the open donate page;
 * the edge puts every node that joins there in this tier whatever it claims.
 */
export const TrustTier = { private: "private", public: "public" } as const;
export const EngineName = {
  llamaCpp: "llama-cpp",
  wllama: "wllama",
  webllm: "webllm",
  echo: "echo",
} as const;

/**
 * Ids and names end up in HTTP headers (`x-rung-model`, `x-rung-node`) and logs,
 * so they are printable ASCII without spaces: a node cannot smuggle a newline
 * into a response header.
 */
export const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
export const idSchema = z.string().regex(ID_PATTERN, "must be 1 to 128 printable ASCII characters without spaces");
export const nodeNameSchema = z.string().regex(/^[\x21-\x7e]{1,64}$/, "must be 1 to 64 printable ASCII characters without spaces");
const id = idSchema;

/** A SHA-256 digest as 64 lowercase hex characters, the form `sha256sum` prints, so equal files give equal strings. */
export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 digest: 64 lowercase hex characters");

/**
 * Capabilities that change what a correct answer looks like. The ladder sends
 * a request that needs one only to models whose node announced it.
 */
export const capabilitiesSchema = z.object({
  /** Output constrained to JSON, or to a given JSON schema (`response_format`). */
  jsonSchema: z.boolean(),
  /** Function calling (`tools`, `tool_choice`), answered as `tool_calls`. */
  tools: z.boolean(),
  /** Per-token confidence in chunks, which escalation reads. */
  logprobs: z.boolean(),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;

export const modelInfoSchema = z.object({
  /** The id clients name in `model`, e.g. `qwen2.5-0.5b-instruct-q4_k_m`. */
  id,
  /** Number of weights; the ladder orders rungs by it. */
  parameters: z.number().int().positive().max(1e13),
  /** e.g. `F16`, `Q4_K_M`. */
  quantization: z.string().max(32),
  /** Context window the node actually allocated, in tokens. */
  contextLength: z
    .number()
    .int()
    .positive()
    .max(1 << 24),
  /**
   * Decoding speed the node measured; 0 means not measured (yet), which the router ranks as
   * the median of the measured. A native agent joins with 0 and sends its figure in a
   * heartbeat once it has timed the model, right after joining.
   */
  tokensPerSecond: z.number().nonnegative().max(MAX_TOKENS_PER_SECOND),
  /** Jobs this model runs at once on this node (its context sequences); `node.slots` caps the node's total. */
  slots: z.number().int().positive().max(256),
  /** What the node can honour for this model (since 1.2; absent means none of them). */
  capabilities: capabilitiesSchema.optional(),
  /**
   * Since 1.6: SHA-256 of the weights file the node loaded, hashed by the node itself. The edge
   * refuses a donated tab whose hash differs from the one the pool's policy gives for that model;
   * absent means not computed (older nodes, native agents), which the edge accepts.
   */
  sha256: sha256Schema.optional(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** A function call the model made; `arguments` is a JSON text, as in OpenAI's API. */
export const toolCallSchema = z.object({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(128),
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof toolCallSchema>;

export const chatMessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.string(),
  /** An assistant turn that called functions (since 1.2). */
  toolCalls: z.array(toolCallSchema).max(128).optional(),
  /** A tool turn: which call this is the result of (since 1.2). */
  toolCallId: z.string().max(128).optional(),
});
export type WireChatMessage = z.infer<typeof chatMessageSchema>;

export const samplingSchema = z.object({
  /** Absent: until the model stops or its context is full. */
  maxTokens: z.number().int().positive().optional(),
  /** 0 means greedy. */
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  stop: z.array(z.string().min(1)).max(4),
  seed: z.number().int().optional(),
});
export type Sampling = z.infer<typeof samplingSchema>;

export const jobInputSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("chat"), messages: z.array(chatMessageSchema).min(1) }),
  z.object({ kind: z.literal("completion"), prompt: z.string() }),
]);
export type JobInput = z.infer<typeof jobInputSchema>;

/** A JSON schema as the client sent it; nodes compile it to a grammar, the edge validates answers against it. */
const jsonSchemaObject = z.record(z.string(), z.unknown());

export const responseFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("json_object") }),
  z.object({ type: z.literal("json_schema"), name: z.string().max(128), schema: jsonSchemaObject }),
]);
export type ResponseFormat = z.infer<typeof responseFormatSchema>;

export const toolSchema = z.object({
  name: z.string().min(1).max(128),
  description: z.string().optional(),
  /** JSON schema of the arguments; absent means no arguments. */
  parameters: jsonSchemaObject.optional(),
});
export type Tool = z.infer<typeof toolSchema>;

/** `auto`: the model decides; `required`: it must call one; `{ name }`: it must call that one. */
export const toolChoiceSchema = z.union([z.enum(["auto", "none", "required"]), z.object({ name: z.string().min(1).max(128) })]);
export type ToolChoice = z.infer<typeof toolChoiceSchema>;

// ---- node -> edge ----

/** Byte counts of memory; 2^53 is far beyond any machine and still exact in JSON. */
const bytesSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const GpuBackend = { cuda: "cuda", vulkan: "vulkan", metal: "metal", cpu: "cpu" } as const;

/** What the node runs on, so an operator's status page can show it. Added in 1.1, hence optional in `hello`. */
export const hardwareSchema = z.object({
  backend: z.enum([GpuBackend.cuda, GpuBackend.vulkan, GpuBackend.metal, GpuBackend.cpu]),
  /** GPU device names as the driver reports them; empty on CPU. */
  devices: z.array(z.string().max(256)).max(64),
  /** Absent on CPU. */
  vramTotalBytes: bytesSchema.optional(),
  vramFreeBytes: bytesSchema.optional(),
  ramTotalBytes: bytesSchema,
  cpuCores: z
    .number()
    .int()
    .positive()
    .max(1 << 16),
});
export type Hardware = z.infer<typeof hardwareSchema>;

export const helloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.string().regex(/^\d+\.\d+$/),
  node: z.object({
    name: nodeNameSchema,
    kind: z.enum([NodeKind.native, NodeKind.browser]),
    engine: z.enum([EngineName.llamaCpp, EngineName.wllama, EngineName.webllm, EngineName.echo]),
    /** Jobs the node runs at once (its context sequences). */
    slots: z.number().int().positive().max(256),
    /** Since 1.3; absent means `private`. A node on the donate page's socket must say `public`. */
    trust: z.enum([TrustTier.private, TrustTier.public]).optional(),
  }),
  models: z.array(modelInfoSchema).min(1).max(32),
  /** Since 1.1; browser tabs and older agents leave it out. */
  hardware: hardwareSchema.optional(),
});

/**
 * Sent every few seconds (15 by default) by nodes whose edge speaks 1.1 or later:
 * how busy the node is and how fast its models decoded in recent real jobs.
 */
export const heartbeatSchema = z.object({
  type: z.literal("heartbeat"),
  /** Jobs running on the node now. */
  activeJobs: z.number().int().nonnegative().max(4096),
  /**
   * Decoding speed per model, measured from recent finished jobs, or else the node's own
   * measurement where it changed since `hello` (a probe that ended after joining); models
   * with neither are left out. The edge ranks the node by these instead of `hello`'s.
   */
  models: z.array(z.object({ id, tokensPerSecond: z.number().nonnegative().max(MAX_TOKENS_PER_SECOND) })).max(32),
  /** Free GPU memory now; absent on CPU. */
  vramFreeBytes: bytesSchema.optional(),
});

/** Most tokens one chunk frame may carry (since 1.4). */
export const MAX_CHUNK_TOKENS = 256;

/**
 * Largest entropy a chunk may report, in nats. A distribution over n tokens has at most
 * ln n (about 12 for a vocabulary of 150,000), so this bound only keeps the field finite.
 */
export const MAX_TOKEN_ENTROPY = 64;

export const chunkSchema = z
  .object({
    type: z.literal("chunk"),
    jobId: id,
    /** 0-based; the edge reorders by it and fails the job on a gap. */
    seq: z.number().int().nonnegative(),
    text: z.string(),
    /**
     * Probability the model gave the token it chose, 0..1; null where the engine cannot tell.
     * A frame with `confidences` carries the lowest of them (null when none is known), so a
     * reader that ignores the list still judges cautiously.
     */
    confidence: z.number().min(0).max(1).nullable(),
    /**
     * Since 1.4: the frame carries this many tokens, whose concatenated text is `text`, with
     * each one's probability in order. Absent: one token. Sent only to an edge that said 1.4.
     */
    confidences: z.array(z.number().min(0).max(1).nullable()).min(1).max(MAX_CHUNK_TOKENS).optional(),
    /**
     * Since 1.7, only when the job asked for `tokenSignals`: each token's margin, the chosen
     * token's probability minus the most probable other token's (0 when another was at least
     * as likely), aligned with the tokens (`confidences`, or the one `confidence`); null where
     * the engine cannot tell. Absent: not known for any token of the frame.
     */
    margins: z.array(z.number().min(0).max(1).nullable()).min(1).max(MAX_CHUNK_TOKENS).optional(),
    /**
     * Since 1.7, as `margins`: each token's entropy of the next-token distribution it was
     * chosen from, in nats, 0..MAX_TOKEN_ENTROPY; null where the engine cannot tell (an
     * engine that sees only the top few probabilities).
     */
    entropies: z.array(z.number().min(0).max(MAX_TOKEN_ENTROPY).nullable()).min(1).max(MAX_CHUNK_TOKENS).optional(),
  })
  .superRefine((chunk, context) => {
    const tokens = chunk.confidences?.length ?? 1;
    for (const key of ["margins", "entropies"] as const) {
      const values = chunk[key];
      if (values !== undefined && values.length !== tokens) {
        context.addIssue({ code: "custom", path: [key], message: `must list one value per token of the frame (${tokens})` });
      }
    }
  });

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof usageSchema>;

export const FinishReason = { stop: "stop", length: "length", toolCalls: "tool_calls" } as const;

export const doneSchema = z.object({
  type: z.literal("done"),
  jobId: id,
  /** How many chunks were sent, so the edge can tell a gap from the end. */
  chunks: z.number().int().nonnegative(),
  finishReason: z.enum([FinishReason.stop, FinishReason.length, FinishReason.toolCalls]),
  usage: usageSchema,
  /** The functions the model called (since 1.2); `finishReason` is then `tool_calls`. */
  toolCalls: z.array(toolCallSchema).max(128).optional(),
});

export const jobErrorSchema = z.object({
  type: z.literal("job-error"),
  jobId: id,
  error: wireErrorSchema,
});

/** The node takes no new jobs (shutting down); jobs in flight still finish. */
export const drainingSchema = z.object({ type: z.literal("draining") });

export const nodeMessageSchema = z.discriminatedUnion("type", [
  helloSchema,
  chunkSchema,
  doneSchema,
  jobErrorSchema,
  drainingSchema,
  heartbeatSchema,
]);
export type NodeMessage = z.infer<typeof nodeMessageSchema>;
export type Hello = z.infer<typeof helloSchema>;
export type Chunk = z.infer<typeof chunkSchema>;
export type Done = z.infer<typeof doneSchema>;
export type JobError = z.infer<typeof jobErrorSchema>;
export type Heartbeat = z.infer<typeof heartbeatSchema>;

// ---- edge -> node ----

export const welcomeSchema = z.object({
  type: z.literal("welcome"),
  nodeId: id,
  protocol: z.string(),
});

export const jobSchema = z.object({
  type: z.literal("job"),
  jobId: id,
  model: id,
  input: jobInputSchema,
  sampling: samplingSchema,
  /** Since 1.2: only sent to models that announced the capability. */
  responseFormat: responseFormatSchema.optional(),
  tools: z.array(toolSchema).min(1).max(128).optional(),
  toolChoice: toolChoiceSchema.optional(),
  /**
   * Since 1.7: send each token's margin and entropy (`margins`, `entropies` in `chunk`) as well
   * as its confidence. Absent or false: confidences only, which cost an engine less. A node
   * older than 1.7 drops the field and sends confidences only.
   */
  tokenSignals: z.boolean().optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const cancelSchema = z.object({ type: z.literal("cancel"), jobId: id });

/** A problem with the node's own frames or registration; `fatal` means the edge closes the socket next. */
export const edgeErrorSchema = z.object({
  type: z.literal("error"),
  error: wireErrorSchema,
  fatal: z.boolean(),
});

export const edgeMessageSchema = z.discriminatedUnion("type", [welcomeSchema, jobSchema, cancelSchema, edgeErrorSchema]);
export type EdgeMessage = z.infer<typeof edgeMessageSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type Cancel = z.infer<typeof cancelSchema>;
export type EdgeError = z.infer<typeof edgeErrorSchema>;

/**
 * Keep-alive frames answered by the edge's hibernation auto-response,
 * so a ping never wakes the Durable Object. Exact strings, not parsed.
 */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';
