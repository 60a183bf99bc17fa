import {
  chatCompletionRequestSchema,
  completionRequestSchema,
  type JobCapabilities,
  jobCapabilitiesOf,
  modelList,
  plainChatRequest,
  toWireMessages,
} from "@rung/shared/openai";
import type { JobInput, Sampling } from "@rung/shared/protocol";
import { AUTO_MODEL, estimateTokens, PROFILE_NAMES } from "@rung/shared/routing";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../env.ts";
import type { FabricJob } from "../fabric/fabric-job.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { accessOf } from "../fabric/visible-nodes.ts";
import { ApiError } from "../middleware/api-error.ts";
import { apiKeyAuth } from "../middleware/auth.ts";
import { apiCors } from "../middleware/cors.ts";
import { parseBody } from "../middleware/parse-body.ts";
import { relayAnswer } from "../openai/relay-answer.ts";
import { rungOverrideOf } from "./rung-override.ts";

/** OpenAI's completions default when the client names no limit. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

interface Submission {
  dialect: FabricJob["reply"]["dialect"];
  model: string;
  input: JobInput;
  sampling: Sampling;
  texts: string[];
  stream: boolean;
  includeUsage: boolean;
  /** JSON output or tools the answer needs (chat only). */
  capabilities?: JobCapabilities;
  override: FabricJob["override"];
}

/** The virtual models: `auto` (the policy's default profile) and one per profile. */
const AUTO_MODELS = [AUTO_MODEL, ...PROFILE_NAMES.map((profile) => `${AUTO_MODEL}:${profile}`)];

export const openaiRoutes = new Hono<AppEnv>()
  // CORS first: a browser's preflight carries no key.
  .use("*", apiCors, apiKeyAuth)
  .post("/chat/completions", async (c) => {
    const body = await parseBody(c, chatCompletionRequestSchema, plainChatRequest);
    const messages = toWireMessages(body.messages);
    return submit(c, {
      dialect: "chat",
      model: body.model,
      input: { kind: "chat", messages },
      sampling: samplingOf(body, body.max_completion_tokens ?? body.max_tokens ?? undefined),
      texts: messages.map((m) => m.content),
      stream: body.stream ?? false,
      includeUsage: body.stream_options?.include_usage ?? false,
      capabilities: jobCapabilitiesOf(body),
      override: rungOverrideOf(body),
    });
  })
  .post("/completions", async (c) => {
    const body = await parseBody(c, completionRequestSchema);
    const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
    return submit(c, {
      dialect: "completion",
      model: body.model,
      input: { kind: "completion", prompt },
      sampling: samplingOf(body, body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
      texts: [prompt],
      stream: body.stream ?? false,
      includeUsage: body.stream_options?.include_usage ?? false,
      override: rungOverrideOf(body),
    });
  })
  // The key's pool, and of it only the models the key may reach. `pool` names it: a field
  // OpenAI's list does not have, which its schema allows and its SDKs ignore.
  .get("/models", async (c) => {
    const caller = c.get("caller");
    const models = await fabricFor(c.env, caller.pool).catalog(accessOf(caller));
    return c.json({ ...listing([...AUTO_MODELS, ...models.map((m) => m.id)]), pool: caller.pool });
  })
  .get("/models/:model{.+}", async (c) => {
    const wanted = c.req.param("model");
    const caller = c.get("caller");
    const models = await fabricFor(c.env, caller.pool).catalog(accessOf(caller));
    if (!AUTO_MODELS.includes(wanted) && !models.some((m) => m.id === wanted)) throw modelNotFound(wanted);
    return c.json(listing([wanted]).data[0]);
  });

function modelNotFound(model: string, why = "no node serves it"): ApiError {
  return new ApiError({ status: 404, message: `The model '${model}' does not exist or ${why}.`, code: "model_not_found", param: "model" });
}

async function submit(c: Context<AppEnv>, submission: Submission): Promise<Response> {
  const caller = c.get("caller");
  const requestId = c.get("requestId");
  const clientGone = c.req.raw.signal;
  // A key limited to some models is told a model outside them does not exist, as OpenAI tells a key without access.
  if (caller.models && !AUTO_MODELS.includes(submission.model) && !caller.models.includes(submission.model)) {
    throw modelNotFound(submission.model, "your key does not have access to it");
  }
  const job: FabricJob = {
    requestId,
    caller,
    model: submission.model,
    input: submission.input,
    sampling: submission.sampling,
    promptTokens: estimateTokens(submission.texts),
    stream: submission.stream,
    reply: { dialect: submission.dialect, includeUsage: submission.includeUsage },
    ...submission.capabilities,
    ...(submission.override && { override: submission.override }),
  };
  let body: string;
  try {
    body = JSON.stringify(job);
  } catch {
    // Only a value nested past the runtime's stack does this (tools or a schema thousands of levels deep).
    throw new ApiError({ status: 400, message: "The request is nested too deeply to be carried.", code: "invalid_request" });
  }
  let answer: Response;
  try {
    answer = await fabricFor(c.env, caller.pool).fetch("https://fabric/jobs", {
      method: "POST",
      body,
      signal: clientGone,
    });
  } catch (error) {
    if (clientGone.aborted) throw error;
    // The pool's object restarted or was unreachable: nothing ran to completion, so retrying is safe.
    throw new ApiError({
      status: 503,
      message: `The fabric was unavailable (${String(error)}). Retry the request.`,
      code: "fabric_unavailable",
    });
  }
  return relayAnswer(answer, requestId);
}

function samplingOf(
  body: { temperature?: number | null; top_p?: number | null; stop?: string | string[] | null; seed?: number | null },
  maxTokens: number | undefined,
): Sampling {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    maxTokens,
    // OpenAI's defaults, so a client gets the behaviour its documentation describes.
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    stop,
    ...(body.seed == null ? {} : { seed: body.seed }),
  };
}

function listing(ids: string[]) {
  const created = Math.floor(Date.now() / 1000);
  return modelList(ids.map((id) => ({ id, created, ownedBy: "rung" })));
}
