/**
 * The edge's routes for fuzz-http-requests.ts: each one's method, a path (naming ids earlier answers made, or odd
 * ones), a valid body where it takes one, the key it wants and its body limit.
 */
import type { FuzzRandom } from "./fuzz-random.ts";

/** What earlier answers made: ids and secrets later requests may name. */
export interface MadeSoFar {
  keyIds: string[];
  keySecrets: string[];
  joinTokenIds: string[];
}

export interface Route {
  name: string;
  method: string;
  path: (rng: FuzzRandom, made: MadeSoFar) => string;
  /** A valid body, for the routes that take one. */
  body?: (rng: FuzzRandom) => unknown;
  auth: "api" | "admin" | "open";
  /** The route's body limit, to go past now and then. */
  bodyLimit?: number;
}

export const OPENAI_BODY_LIMIT = 4 * 1024 * 1024;
const KEY_BODY_LIMIT = 64 * 1024;
const POLICY_BODY_LIMIT = 256 * 1024;

/** Every route of the edge with a valid request for it, as the fuzz mutates it. */
export function routes(modelId: string): Route[] {
  const model = (rng: FuzzRandom) => rng.pick(["auto", "auto:speed", "auto:quality", modelId, modelId, "gpt-4o"]);
  const chatBody = (rng: FuzzRandom) => {
    const stream = rng.chance(0.3);
    return {
      model: model(rng),
      messages: [
        ...(rng.chance(0.3) ? [{ role: "system", content: "Be brief." }] : []),
        { role: "user", content: rng.pick(["Say hi", "What is 2+2?", [{ type: "text", text: "Say hi" }]]) },
      ],
      ...(rng.chance(0.5) && { max_tokens: rng.int(1, 64) }),
      ...(rng.chance(0.3) && { temperature: rng.pick([0, 0.7, 2]) }),
      ...(rng.chance(0.2) && { top_p: rng.pick([0.1, 1]) }),
      ...(rng.chance(0.2) && { stop: rng.pick(["\n", ["END", "STOP"]]) }),
      ...(rng.chance(0.2) && { seed: rng.int(0, 1_000) }),
      ...(rng.chance(0.1) && { rung: { escalate: false } }),
      ...(rng.chance(0.1) && {
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }],
      }),
      ...(rng.chance(0.1) && {
        response_format: rng.pick([
          { type: "json_object" },
          { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } },
        ]),
      }),
      ...(rng.chance(0.1) && { user: "u1", metadata: { a: "b" } }),
      ...(stream && { stream, ...(rng.chance(0.5) && { stream_options: { include_usage: true } }) }),
    };
  };
  const completionBody = (rng: FuzzRandom) => ({
    model: model(rng),
    prompt: rng.pick(["Once upon", ["Once upon"]]),
    ...(rng.chance(0.5) && { max_tokens: rng.int(1, 64) }),
    ...(rng.chance(0.3) && { stream: true }),
  });
  const keyBody = (rng: FuzzRandom) => ({
    name: `fuzz-${rng.int(0, 999)}`,
    ...(rng.chance(0.5) && { tiers: rng.pick([["private"], ["public"], ["private", "public"]]) }),
    ...(rng.chance(0.3) && { pool: rng.pick(["main", "lab"]) }),
    ...(rng.chance(0.3) && { rpm: rng.pick([1, 1_000, null]) }),
    ...(rng.chance(0.2) && { tpm: rng.pick([100, null]) }),
    ...(rng.chance(0.2) && { concurrency: rng.pick([1, 4]) }),
    ...(rng.chance(0.2) && { monthlyTokens: 1_000_000 }),
    ...(rng.chance(0.2) && { models: rng.pick([[modelId], ["auto"], null]) }),
    ...(rng.chance(0.2) && { verify: rng.chance(0.5) }),
  });
  const policyBody = (rng: FuzzRandom) => ({
    ...(rng.chance(0.5) && { escalation: { minMeanConfidence: rng.pick([0.5, 0.97]), windowTokens: rng.pick([1, 16]), maxClimbs: 2 } }),
    ...(rng.chance(0.3) && { queue: { maxLength: rng.pick([8, 64]), maxWaitMs: 1_000 } }),
    ...(rng.chance(0.3) && { hedge: { enabled: rng.chance(0.5) } }),
    ...(rng.chance(0.3) && { retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 100 } }),
    ...(rng.chance(0.2) && { cors: { allowedOrigins: ["https://app.example.com"] } }),
    ...(rng.chance(0.2) && { donate: { acceptPublicNodes: rng.chance(0.5) } }),
    ...(rng.chance(0.2) && { profiles: { speed: { latency: 10 } } }),
    ...(rng.chance(0.2) && {
      verification: { sampleRate: rng.pick([0, 0.5, 1]), canaries: [{ model: modelId, prompt: "2+2?", answer: "4" }] },
    }),
  });
  const keyId = (rng: FuzzRandom, made: MadeSoFar) =>
    made.keyIds.length > 0 && rng.chance(0.6) ? rng.pick(made.keyIds) : oddId(rng, "key_");
  const joinTokenId = (rng: FuzzRandom, made: MadeSoFar) =>
    made.joinTokenIds.length > 0 && rng.chance(0.6) ? rng.pick(made.joinTokenIds) : oddId(rng, "jt_");
  const day = (rng: FuzzRandom) => rng.pick(["2026-01-01", "2026-02-30", "2026-13-01", "1-1-1", "", "9999-12-31", "%ZZ", "0000-00-00"]);
  return [
    { name: "chat", method: "POST", path: () => "/v1/chat/completions", body: chatBody, auth: "api", bodyLimit: OPENAI_BODY_LIMIT },
    { name: "completions", method: "POST", path: () => "/v1/completions", body: completionBody, auth: "api", bodyLimit: OPENAI_BODY_LIMIT },
    { name: "models", method: "GET", path: () => "/v1/models", auth: "api" },
    {
      name: "model",
      method: "GET",
      path: (rng) =>
        `/v1/models/${rng.pick(["auto", "auto:speed", modelId, "gpt-4o", "a/b/c", "%ZZ", "..", encoded(rng.awkwardString()), rng.printable(1, 300).replace(/[?#%]/g, "_")])}`,
      auth: "api",
    },
    { name: "status", method: "GET", path: () => "/v1/status", auth: "api" },
    { name: "health", method: "GET", path: () => "/health", auth: "api" },
    { name: "create key", method: "POST", path: () => "/admin/keys", body: keyBody, auth: "admin", bodyLimit: KEY_BODY_LIMIT },
    { name: "list keys", method: "GET", path: () => "/admin/keys", auth: "admin" },
    { name: "get key", method: "GET", path: (rng, made) => `/admin/keys/${keyId(rng, made)}`, auth: "admin" },
    {
      name: "patch key",
      method: "PATCH",
      path: (rng, made) => `/admin/keys/${keyId(rng, made)}`,
      body: (rng) => ({ ...keyBody(rng), name: "patched" }),
      auth: "admin",
      bodyLimit: KEY_BODY_LIMIT,
    },
    { name: "revoke key", method: "DELETE", path: (rng, made) => `/admin/keys/${keyId(rng, made)}`, auth: "admin" },
    {
      name: "create join token",
      method: "POST",
      path: () => "/admin/join-tokens",
      body: (rng) => ({ pool: rng.pick(["main", "lab"]), name: "fuzz" }),
      auth: "admin",
      bodyLimit: KEY_BODY_LIMIT,
    },
    { name: "list join tokens", method: "GET", path: () => "/admin/join-tokens", auth: "admin" },
    { name: "revoke join token", method: "DELETE", path: (rng, made) => `/admin/join-tokens/${joinTokenId(rng, made)}`, auth: "admin" },
    { name: "get policy", method: "GET", path: () => "/admin/policy", auth: "admin" },
    { name: "put policy", method: "PUT", path: () => "/admin/policy", body: policyBody, auth: "admin", bodyLimit: POLICY_BODY_LIMIT },
    { name: "reset policy", method: "DELETE", path: () => "/admin/policy", auth: "admin" },
    {
      name: "usage",
      method: "GET",
      path: (rng, made) =>
        `/admin/usage?${rng.chance(0.5) ? `key=${rng.chance(0.5) && made.keyIds.length > 0 ? rng.pick(made.keyIds) : encoded(rng.awkwardString())}&` : ""}${rng.chance(0.5) ? `from=${day(rng)}&` : ""}${rng.chance(0.5) ? `to=${day(rng)}` : ""}`,
      auth: "admin",
    },
    { name: "metrics", method: "GET", path: () => "/metrics", auth: "admin" },
    {
      name: "quarantine",
      method: "GET",
      path: (rng) =>
        `/admin/quarantine${rng.pick(["", "?pool=main", "?pool=lab", "?pool=Bad_Pool", `?pool=${encoded(rng.awkwardString())}`])}`,
      auth: "admin",
    },
    { name: "donate config", method: "GET", path: () => "/donate/config", auth: "open" },
    { name: "node entrance", method: "GET", path: () => "/v1/nodes/connect", auth: "open" },
  ];
}

/** Percent-encoded; surrogates (which encodeURIComponent refuses alone) become U+FFFD first. */
export function encoded(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "\ufffd"));
}

function oddId(rng: FuzzRandom, prefix: string): string {
  return rng.pick([
    `${prefix}000000000000`,
    `${prefix}${rng.printable(1, 20).replace(/[/?#%]/g, "_")}`,
    encoded(rng.awkwardString()),
    "%ZZ",
    "..",
    "x".repeat(rng.pick([129, 5_000])),
  ]);
}
