import { env, SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { DONATE_CONFIG_PATH, DONATE_CONNECT_PATH, donateConfigSchema } from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../src/index.ts";
import type { CreatedJoinToken, CreatedKey } from "../src/keys/key-record.ts";
import { keyStoreOf } from "../src/keys/key-store-stub.ts";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { chat, helloOf, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

/** The test edge is open (vitest.config.ts); this is the same edge as deployed: closed. */
const closed = { ...env, RUNG_OPEN_EDGE: undefined };

async function adminPost<T>(path: string, body: Record<string, unknown>): Promise<T> {
  const response = await SELF.fetch(`http://edge/admin${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as T;
}

const newKey = (body: Record<string, unknown>) => adminPost<CreatedKey>("/keys", body);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const { error } = errorBodySchema.parse(await response.json());
  expect(error.code).toBe(code);
  return error;
}

/** A node joining through the token entrance with these headers and query, welcomed. */
async function joinWith(name: string, init: { query?: string; token?: string; on?: typeof env } = {}): Promise<TestNode> {
  const headers: Record<string, string> = { upgrade: "websocket", ...(init.token && as(init.token)) };
  const node = await TestNode.from(await app.request(`/v1/nodes/connect${init.query ?? ""}`, { headers }, init.on ?? env));
  node.send(helloOf(name, [small]));
  await node.next("welcome");
  return node;
}

describe("closed by default", () => {
  it("refuses API requests without a key with a 401 that says how to make one, and serves a key", async () => {
    const error = await expectError(await app.request("/v1/models", {}, closed), 401, "invalid_api_key");
    // Either no key exists yet in this test run's store (how to make one) or some do (send yours).
    expect(error.message).toMatch(/POST \/admin\/keys|Bearer/);
    const { key } = await newKey({ name: "closed-edge-client" });
    const models = await app.request("/v1/models", { headers: as(key) }, closed);
    expect(models.status).toBe(200);
    await expectError(await app.request("/v1/models", { headers: as(`${key}x`) }, closed), 401, "invalid_api_key");
  });

  it("takes no node without a join token, and says how to get one", async () => {
    const error = await expectError(
      await app.request("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, closed),
      401,
      "invalid_node_token",
    );
    expect(error.message).toContain("POST /admin/join-tokens");
  });

  it("answers /health liveness to everyone and names nodes only to a key", async () => {
    await TestNode.join("host-7.internal", [small]);
    expect(await (await app.request("/health", {}, closed)).json()).toEqual({ status: "ok" });
    const { key } = await newKey({ name: "health-reader" });
    const detailed = (await (await app.request("/health", { headers: as(key) }, closed)).json()) as { nodes: string[] };
    expect(detailed.nodes).toEqual(["host-7.internal"]);
  });

  it("offers the donate page to tabs only when some key of the pool may use them", async () => {
    const pool = "donations-test";
    const config = async () => donateConfigSchema.parse(await (await app.request(`${DONATE_CONFIG_PATH}?pool=${pool}`, {}, closed)).json());
    const before = await config();
    expect(before.accepting).toBe(false);
    expect(before.reason).toMatch(/No key of this pool/);
    await expectError(
      await app.request(`${DONATE_CONNECT_PATH}?pool=${pool}`, { headers: { upgrade: "websocket" } }, closed),
      403,
      "donations_closed",
    );
    await newKey({ name: "tab-user", pool, tiers: ["private", "public"] });
    const after = await config();
    expect(after.accepting).toBe(true);
    expect(after.connectPath).toBe(`${DONATE_CONNECT_PATH}?pool=${pool}`);
  });
});

describe("pools", () => {
  it("keeps each pool's nodes to its own keys: a join token names its pool, and a key sees only its pool", async () => {
    const token = await adminPost<CreatedJoinToken>("/join-tokens", { pool: "team-a" });
    const teamA = await newKey({ name: "team-a-client", pool: "team-a" });
    const mainKey = await newKey({ name: "main-client" });
    // Earlier tests' nodes served the model in main: without this, main's request would wait for one to come back.
    await putPolicy({ queue: { awaitReturnMs: 0 } });
    // Closed edge: the token alone says which pool.
    const node = await joinWith("team-a-node", { token: token.token, on: closed });

    const pending = app.request(
      "/v1/chat/completions",
      {
        method: "POST",
        headers: { ...as(teamA.key), "content-type": "application/json" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
      },
      closed,
    );
    node.answer(await node.next("job"), ["team", " a"]);
    const answered = (await (await pending).json()) as { choices: { message: { content: string } }[] };
    expect(answered.choices[0]?.message.content).toBe("team a");

    // The main pool has no node: main's key is not served by team a's.
    await expectError(
      await app.request(
        "/v1/chat/completions",
        {
          method: "POST",
          headers: { ...as(mainKey.key), "content-type": "application/json" },
          body: JSON.stringify({ model: small.id, messages: [{ role: "user", content: "hi" }] }),
        },
        closed,
      ),
      404,
      "model_not_found",
    );
    const status = (await (await app.request("/v1/status", { headers: as(teamA.key) }, closed)).json()) as {
      pool: string;
      catalog: { id: string }[];
    };
    expect(status).toMatchObject({ pool: "team-a", catalog: [{ id: small.id }] });
    // /v1/models names the key's pool beside OpenAI's list, the default one too.
    const listOf = async (key: string) =>
      (await (await app.request("/v1/models", { headers: as(key) }, closed)).json()) as {
        object: string;
        pool: string;
        data: { id: string }[];
      };
    const teamAList = await listOf(teamA.key);
    expect(teamAList).toMatchObject({ object: "list", pool: "team-a" });
    expect(teamAList.data.map((m) => m.id)).toContain(small.id);
    expect(await listOf(mainKey.key)).toMatchObject({ object: "list", pool: "main" });
    expect(node.received.filter((m) => m.type === "job")).toEqual([]);
  });

  it("drops the nodes that came in with a join token when it is revoked, and only those; a node cannot claim a token by header", async () => {
    const token = await adminPost<CreatedJoinToken>("/join-tokens", { name: "revoked-soon" });
    const other = await adminPost<CreatedJoinToken>("/join-tokens", { name: "stays" });
    const doomed = await joinWith("doomed", { token: token.token, on: closed });
    const staying = await joinWith("staying", { token: other.token, on: closed });
    // An open-edge node that sends the header itself is not taken for the token's: the Worker sets it, alone.
    const forger = await TestNode.from(
      await SELF.fetch("http://edge/v1/nodes/connect", { headers: { upgrade: "websocket", "x-rung-join-token": token.id } }),
    );
    forger.send(helloOf("forger", [small]));
    await forger.next("welcome");

    const revoked = await SELF.fetch(`http://edge/admin/join-tokens/${token.id}`, { method: "DELETE", headers: as(env.RUNG_ADMIN_KEY!) });
    expect(await revoked.json()).toEqual({ id: token.id, object: "join_token", deleted: true, nodesDropped: 1 });
    const error = await doomed.next("error");
    expect(error).toMatchObject({ fatal: true, error: { code: "unauthorized" } });
    await vi.waitFor(() => expect(doomed.closed).toBe(true));
    expect(staying.closed).toBe(false);
    expect(forger.closed).toBe(false);
    await expectError(
      await app.request("/v1/nodes/connect", { headers: { upgrade: "websocket", ...as(token.token) } }, closed),
      401,
      "invalid_node_token",
    );
  });

  it("keeps reading a pool whose keys were all revoked, and one a node named on an open edge", async () => {
    const made = await newKey({ name: "short-lived", pool: "bygone" });
    const revoked = await SELF.fetch(`http://edge/admin/keys/${made.id}`, { method: "DELETE", headers: as(env.RUNG_ADMIN_KEY!) });
    expect(revoked.status).toBe(200);
    await joinWith("lab-node", { query: "?pool=lab-open" });
    const pools = await keyStoreOf(env).pools();
    expect(pools).toEqual(expect.arrayContaining(["bygone", "lab-open", "main"]));
  });

  it("refuses a join token for another pool than the one asked for", async () => {
    const token = await adminPost<CreatedJoinToken>("/join-tokens", { pool: "team-b" });
    const error = await expectError(
      await app.request("/v1/nodes/connect?pool=team-c", { headers: { upgrade: "websocket", ...as(token.token) } }, closed),
      401,
      "invalid_node_token",
    );
    expect(error.message).toContain("'team-b'");
    await expectError(
      await app.request("/v1/nodes/connect?pool=Not_A_Pool", { headers: { upgrade: "websocket" } }, env),
      400,
      "invalid_pool",
    );
  });
});

describe("limits and usage", () => {
  it("refuses the request over a key's requests per minute with 429, Retry-After and OpenAI's headers, which every answer carries", async () => {
    const node = await TestNode.join("worker", [small]);
    const { key } = await newKey({ name: "rpm-2", rpm: 2 });
    const served: Response[] = [];
    // A whole answer, then a stream: both carry the headers.
    for (const stream of [false, true]) {
      const pending = chat({ model: small.id, stream }, as(key));
      node.answer(await node.next("job"), ["ok"]);
      served.push(await pending);
    }
    expect(served.map((r) => r.status)).toEqual([200, 200]);
    expect(served.map((r) => r.headers.get("x-ratelimit-remaining-requests"))).toEqual(["1", "0"]);
    expect(served[0]?.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(served[0]?.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?(ms|s)$|m/);

    const refused = await chat({ model: small.id }, as(key));
    const error = await expectError(refused, 429, "rate_limit_exceeded");
    expect(error.message).toContain("requests per minute");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(node.received.filter((m) => m.type === "job")).toEqual([]);
  });

  it("refuses a second request in flight over the key's concurrency, and takes one again once the first ended", async () => {
    const node = await TestNode.join("worker", [small], 4);
    const { key } = await newKey({ name: "one-at-a-time", concurrency: 1 });
    const first = chat({ model: small.id }, as(key));
    const job = await node.next("job");
    await expectError(await chat({ model: small.id }, as(key)), 429, "rate_limit_exceeded");
    node.answer(job, ["first"]);
    expect((await first).status).toBe(200);
    const again = chat({ model: small.id }, as(key));
    node.answer(await node.next("job"), ["again"]);
    expect((await again).status).toBe(200);
  });

  it("records usage by key and model at the operator's prices, and stops a key at its monthly budget", async () => {
    await putPolicy({ prices: { [small.id]: 2 } });
    const node = await TestNode.join("worker", [small]);
    // The test node reports 5 prompt tokens and one completion token per piece.
    const { key, id } = await newKey({ name: "budget-8", monthlyTokens: 8 });
    const pending = chat({ model: small.id }, as(key));
    node.answer(await node.next("job"), ["a", "b", "c"]);
    expect((await pending).status).toBe(200);

    const usage = (await (await SELF.fetch(`http://edge/admin/usage?key=${id}`, { headers: as(env.RUNG_ADMIN_KEY!) })).json()) as {
      data: Record<string, unknown>[];
    };
    expect(usage.data).toEqual([
      {
        pool: "main",
        date: new Date().toISOString().slice(0, 10),
        keyId: id,
        model: small.id,
        requests: 1,
        promptTokens: 5,
        completionTokens: 3,
        compute: small.parameters * 8,
        cost: (8 * 2) / 1e6,
      },
    ]);
    const over = await chat({ model: small.id }, as(key));
    const error = await expectError(over, 429, "insufficient_quota");
    expect(error.message).toMatch(/Monthly token budget/);
    await expectError(
      await SELF.fetch("http://edge/admin/usage?from=yesterday", { headers: as(env.RUNG_ADMIN_KEY!) }),
      400,
      "invalid_value",
    );
  });
});

describe("hardening", () => {
  it("lets only the origins the policy lists call the API from a browser, answers included", async () => {
    await putPolicy({ cors: { allowedOrigins: ["https://app.example.com"] } });
    const preflight = await SELF.fetch("http://edge/v1/chat/completions", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);

    const node = await TestNode.join("worker", [small]);
    const pending = chat({ model: small.id }, { origin: "https://app.example.com" });
    node.answer(await node.next("job"), ["ok"]);
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/x-rung-model/);

    const stranger = await SELF.fetch("http://edge/v1/models", { headers: { origin: "https://evil.example" } });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    expect((await putPolicy({ cors: { allowedOrigins: ["https://app.example.com/path"] } })).status).toBe(400);
  });

  it("refuses a body over the limit with 413 in OpenAI's shape, declared or chunked", async () => {
    const big = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] });
    await expectError(await chat({ messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }), 413, "body_too_large");
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await SELF.fetch("http://edge/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked,
    });
    await expectError(response, 413, "body_too_large");
  });
});
