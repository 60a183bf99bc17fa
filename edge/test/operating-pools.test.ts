import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../src/index.ts";
import type { CreatedJoinToken } from "../src/keys/key-record.ts";
import { keyStoreOf } from "../src/keys/key-store-stub.ts";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { adminPost, as, closed, expectError, joinWith, newKey } from "./operating-fixtures.ts";
import { helloOf, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

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
