import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../env.ts";
import { DEFAULT_POOL } from "../env.ts";
import { type Caller, TIERS } from "../keys/caller.ts";
import { idOfSecret, publicId } from "../keys/key-secret.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
import { poolOf } from "../pool-of.ts";
import { ApiError } from "./api-error.ts";

/** Keys the admin API makes start so; anything else is not worth asking the key store about. */
const MANAGED_KEY_PREFIX = "rk_";
/** And join tokens so. */
const MANAGED_JOIN_TOKEN_PREFIX = "rj_";

/** Who an open edge serves without a key: everyone, in the default pool, on every tier, without limits. */
const ANONYMOUS: Caller = { keyId: "anonymous", name: "anonymous", pool: DEFAULT_POOL, tiers: TIERS, limits: {} };

/**
 * Resolves the request's key to its `Caller` (pool, tiers, limits) for the
 * routes after it. Closed by default: without a known key the answer is 401,
 * unless the operator opened the edge (`RUNG_OPEN_EDGE`).
 */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const caller = await callerOf(c.env, bearerOf(c.req.header("authorization")));
  if (!caller) throw await unauthorized(c.env);
  c.set("caller", caller);
  await next();
});

/** The caller a bearer secret stands for: a static key, a key of the admin API, or anonymous on an open edge. */
export async function callerOf(env: Env, secret: string): Promise<Caller | undefined> {
  if (secret) {
    const index = listOf(env.RUNG_API_KEYS).findIndex((key) => timingSafeEqual(key, secret));
    if (index >= 0)
      return { keyId: `static:${index + 1}`, name: `RUNG_API_KEYS #${index + 1}`, pool: DEFAULT_POOL, tiers: ["private"], limits: {} };
    if (secret.startsWith(MANAGED_KEY_PREFIX)) {
      const caller = await keyStoreOf(env).authorize(secret);
      if (caller) return caller;
    }
  }
  return isOpenEdge(env) ? ANONYMOUS : undefined;
}

export function isOpenEdge(env: Env): boolean {
  return env.RUNG_OPEN_EDGE?.trim().toLowerCase() === "true";
}

/** A wrong key, or (on an edge that has none yet) how the operator makes the first one. */
async function unauthorized(env: Env): Promise<ApiError> {
  const hasKeys = listOf(env.RUNG_API_KEYS).length > 0 || (await keyStoreOf(env).keyCount()) > 0;
  if (hasKeys) {
    return new ApiError({
      status: 401,
      message: "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.",
      code: "invalid_api_key",
    });
  }
  return new ApiError({
    status: 401,
    message:
      "This edge has no API keys yet, and a deployed edge serves no one without one. The operator creates a key with " +
      "'POST /admin/keys' (bearer RUNG_ADMIN_KEY) or sets the RUNG_API_KEYS secret; a local edge may be opened to everyone with RUNG_OPEN_EDGE=true.",
    code: "invalid_api_key",
  });
}

/**
 * The operator's key for `/admin/*`. Unlike the API, admin routes are closed
 * when no key is configured: changing the policy of a public edge must never be open.
 */
export const adminKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.RUNG_ADMIN_KEY;
  if (!expected) {
    throw new ApiError({
      status: 403,
      message: "Admin routes are disabled: set the RUNG_ADMIN_KEY secret to enable them.",
      code: "admin_disabled",
    });
  }
  if (!timingSafeEqual(expected, bearerOf(c.req.header("authorization")))) {
    throw new ApiError({
      status: 401,
      message: "Incorrect admin key. Send RUNG_ADMIN_KEY as 'Authorization: Bearer <key>'.",
      code: "invalid_api_key",
    });
  }
  await next();
});

/** Whether the request carries the admin key (for routes that show more to the operator). */
export function isAdmin(env: Env, request: Request): boolean {
  return isAdminKey(env, bearerOf(request.headers.get("authorization") ?? undefined));
}

/** Whether `given` is the admin key (in constant time); never, when none is configured. */
export function isAdminKey(env: Env, given: string): boolean {
  return !!env.RUNG_ADMIN_KEY && timingSafeEqual(env.RUNG_ADMIN_KEY, given);
}

/** `/metrics` also takes its own key, so a Prometheus scraper need not hold the admin key. */
export function isMetricsReader(env: Env, request: Request): boolean {
  const given = bearerOf(request.headers.get("authorization") ?? undefined);
  return isAdmin(env, request) || (!!env.RUNG_METRICS_KEY && timingSafeEqual(env.RUNG_METRICS_KEY, given));
}

/** Where a node may join, and the admin API's join token it came with (so revoking the token drops it). */
export type JoinVerdict = { ok: true; pool: string; joinTokenId?: string } | { ok: false; error: ApiError };

/**
 * Which pool a node may join. `RUNG_NODE_TOKEN` admits to `main`; a join token
 * of the admin API to its own pool; an open edge takes a node without one into
 * the pool it asks for. Nodes present the token as a bearer header, or `?token=`
 * where a browser cannot set headers; `?pool=` (or the token) names the pool.
 */
export async function joinVerdict(env: Env, request: Request): Promise<JoinVerdict> {
  const url = new URL(request.url);
  const asked = url.searchParams.get("pool") ? poolOf(url.searchParams.get("pool")) : undefined;
  const given = bearerOf(request.headers.get("authorization") ?? undefined) || url.searchParams.get("token") || "";
  let pool: string | undefined;
  let joinTokenId: string | undefined;
  if (given && env.RUNG_NODE_TOKEN && timingSafeEqual(env.RUNG_NODE_TOKEN, given)) pool = DEFAULT_POOL;
  else if (given.startsWith(MANAGED_JOIN_TOKEN_PREFIX)) {
    pool = (await keyStoreOf(env).joinPool(given)) ?? undefined;
    const id = idOfSecret("joinToken", given);
    if (pool !== undefined && id !== null) joinTokenId = publicId("joinToken", id);
  }
  if (pool !== undefined) {
    if (asked === undefined || asked === pool) return { ok: true, pool, ...(joinTokenId && { joinTokenId }) };
    return refuse(`This join token admits nodes to the pool '${pool}', not '${asked}'.`);
  }
  if (isOpenEdge(env)) {
    // No key or token names a pool a node makes up on an open edge: note it, so /metrics and usage read it too.
    if (asked !== undefined && asked !== DEFAULT_POOL) await keyStoreOf(env).addPool(asked);
    return { ok: true, pool: asked ?? DEFAULT_POOL };
  }
  if (!given && !env.RUNG_NODE_TOKEN) {
    return refuse(
      "This edge takes no nodes without a join token. The operator makes one with 'POST /admin/join-tokens' " +
        "(bearer RUNG_ADMIN_KEY) or sets the RUNG_NODE_TOKEN secret; start the node with its join token (RUNG_TOKEN, or --token).",
    );
  }
  return refuse("Invalid node token. Start the node with its join token (RUNG_TOKEN, or --token <join token>).");
}

function refuse(message: string): JoinVerdict {
  return { ok: false, error: new ApiError({ status: 401, message, code: "invalid_node_token" }) };
}

export function bearerOf(header: string | undefined): string {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match?.[1]?.trim() ?? "";
}

function listOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.length !== right.length) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}
