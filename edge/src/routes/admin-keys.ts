import { type Context, Hono } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env.ts";
import { fabricFor } from "../fabric/fabric-stub.ts";
import { joinTokenCreateSchema, keyCreateSchema, keyPatchSchema } from "../keys/key-input.ts";
import { keyStoreOf } from "../keys/key-store-stub.ts";
import { ApiError } from "../middleware/api-error.ts";
import { readCappedText } from "../read-capped-text.ts";

/** A key's fields are a few hundred bytes; a long model list stays far below this. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The operator's keys and join tokens (mounted under `/admin`, behind the admin key).
 * A secret is in the answer that creates it and nowhere else; a revocation holds from the next request.
 */
export const adminKeyRoutes = new Hono<AppEnv>()
  .post("/keys", async (c) => c.json(await keyStoreOf(c.env).createKey(await bodyOf(c, keyCreateSchema)), 201))
  .get("/keys", async (c) => c.json({ object: "list", data: await keyStoreOf(c.env).listKeys() }))
  .get("/keys/:id", async (c) => c.json((await keyStoreOf(c.env).getKey(c.req.param("id"))) ?? notFound("key", c.req.param("id"))))
  .patch("/keys/:id", async (c) => {
    const patch = await bodyOf(c, keyPatchSchema);
    return c.json((await keyStoreOf(c.env).updateKey(c.req.param("id"), patch)) ?? notFound("key", c.req.param("id")));
  })
  .delete("/keys/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await keyStoreOf(c.env).revokeKey(id))) notFound("key", id);
    return c.json({ id, object: "key", deleted: true });
  })
  .post("/join-tokens", async (c) => c.json(await keyStoreOf(c.env).createJoinToken(await bodyOf(c, joinTokenCreateSchema)), 201))
  .get("/join-tokens", async (c) => c.json({ object: "list", data: await keyStoreOf(c.env).listJoinTokens() }))
  .delete("/join-tokens/:id", async (c) => {
    const id = c.req.param("id");
    const revoked = await keyStoreOf(c.env).revokeJoinToken(id);
    if (!revoked) notFound("join token", id);
    // Nodes that came in with it leave too: a revoked token must not keep a machine in the pool.
    const nodesDropped = await fabricFor(c.env, revoked.pool).dropJoinToken(id);
    return c.json({ id, object: "join_token", deleted: true, nodesDropped });
  });

/** The body, capped and validated; an empty body is `{}`. Any problem is a 400 naming the field. */
async function bodyOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const text = await readCappedText(c.req.raw, MAX_BODY_BYTES);
  let input: unknown = {};
  if (text.trim()) {
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new ApiError({ status: 400, message: `The body is not valid JSON: ${(error as Error).message}`, code: "invalid_json" });
    }
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // A misspelt field is reported at the object that holds it, with the field's name in `keys`.
  const path = issue?.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]] : (issue?.path ?? []);
  const param = path.length > 0 ? path.join(".") : null;
  const message = issue?.code === "unrecognized_keys" ? "unknown field" : (issue?.message ?? "bad input");
  throw new ApiError({ status: 400, message: `Invalid request: ${param ? `'${param}': ` : ""}${message}`, param, code: "invalid_request" });
}

function notFound(what: "key" | "join token", id: string): never {
  throw new ApiError({ status: 404, message: `No ${what} with id '${id}'.`, code: `${what.replace(" ", "_")}_not_found`, param: "id" });
}
