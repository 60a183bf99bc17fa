/** What the operating-*.test.ts files share: the edge as deployed (closed), the admin API, errors in OpenAI's shape, nodes joining with a token. */
import { env, SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { expect } from "vitest";
import app from "../src/index.ts";
import type { CreatedKey } from "../src/keys/key-record.ts";
import { small } from "./ladder-fixtures.ts";
import { helloOf, TestNode } from "./test-node.ts";

/** The test edge is open (vitest.config.ts); this is the same edge as deployed: closed. */
export const closed = { ...env, RUNG_OPEN_EDGE: undefined };

export async function adminPost<T>(path: string, body: Record<string, unknown>): Promise<T> {
  const response = await SELF.fetch(`http://edge/admin${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as T;
}

export const newKey = (body: Record<string, unknown>) => adminPost<CreatedKey>("/keys", body);
export const as = (key: string) => ({ authorization: `Bearer ${key}` });

export async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const { error } = errorBodySchema.parse(await response.json());
  expect(error.code).toBe(code);
  return error;
}

/** A node joining through the token entrance with these headers and query, welcomed. */
export async function joinWith(name: string, init: { query?: string; token?: string; on?: typeof env } = {}): Promise<TestNode> {
  const headers: Record<string, string> = { upgrade: "websocket", ...(init.token && as(init.token)) };
  const node = await TestNode.from(await app.request(`/v1/nodes/connect${init.query ?? ""}`, { headers }, init.on ?? env));
  node.send(helloOf(name, [small]));
  await node.next("welcome");
  return node;
}
