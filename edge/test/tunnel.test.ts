import { SELF } from "cloudflare:test";
import { PROTOCOL_VERSION, SignatureHeader, signCall, TunnelPath, type TunnelWelcome, tunnelWelcomeSchema } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { helloOf, model, TestNode } from "./test-node.ts";

/** Tunnel nodes outlive a test unless they leave: each test's must not answer the next test's jobs. */
const registered: TunnelWelcome[] = [];

afterEach(async () => {
  await TestNode.closeAll();
  for (const welcome of registered.splice(0)) {
    const leave = await signed(welcome, TunnelPath.leave, "{}");
    await post(TunnelPath.leave, leave.body, leave.headers);
  }
});

const small = model("rung-tunnelled", 1_000_000);

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`http://edge${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

async function register(name = "behind-proxy"): Promise<TunnelWelcome> {
  const response = await post(TunnelPath.register, JSON.stringify({ hello: helloOf(name, [small]), url: "http://127.0.0.1:9/" }));
  expect(response.status).toBe(200);
  const welcome = tunnelWelcomeSchema.parse(await response.json());
  registered.push(welcome);
  return welcome;
}

async function signed(welcome: TunnelWelcome, path: string, body: string) {
  return { body, headers: await signCall(welcome.secret, welcome.nodeId, { method: "POST", path, body }) };
}

async function modelIds(): Promise<string[]> {
  return ((await (await SELF.fetch("http://edge/v1/models")).json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

describe("tunnel registration", () => {
  it("lists a registered tunnel node's models like any other node's, until it leaves", async () => {
    const welcome = await register();
    expect(welcome.heartbeatIntervalMs).toBeGreaterThan(0);
    expect(await modelIds()).toContain("rung-tunnelled");
    const leave = await signed(welcome, TunnelPath.leave, "{}");
    expect((await post(TunnelPath.leave, leave.body, leave.headers)).status).toBe(200);
    expect(await modelIds()).not.toContain("rung-tunnelled");
  });

  it("renews on a signed heartbeat and refuses unsigned, forged, stale and replayed ones", async () => {
    const welcome = await register();
    const body = JSON.stringify({ nodeId: welcome.nodeId });
    const good = await signed(welcome, TunnelPath.heartbeat, body);
    expect((await post(TunnelPath.heartbeat, good.body, good.headers)).status).toBe(200);

    const refusal = async (headers: Record<string, string>) => {
      const response = await post(TunnelPath.heartbeat, body, headers);
      expect(response.status).toBe(401);
      return ((await response.json()) as { error: { code: string } }).error.code;
    };
    expect(await refusal(good.headers)).toBe("signature_replayed");
    expect(await refusal({ [SignatureHeader.node]: welcome.nodeId })).toBe("signature_unsigned");
    const forged = await signCall(btoa("x".repeat(32)), welcome.nodeId, { method: "POST", path: TunnelPath.heartbeat, body });
    expect(await refusal(forged)).toBe("signature_forged");
    const stale = await signCall(
      welcome.secret,
      welcome.nodeId,
      { method: "POST", path: TunnelPath.heartbeat, body },
      Date.now() - 120_000,
    );
    expect(await refusal(stale)).toBe("signature_stale");
  });

  it("tells an unknown node to register again", async () => {
    const stranger = await signCall(btoa("y".repeat(32)), "node_nobody", { method: "POST", path: TunnelPath.heartbeat, body: "{}" });
    const response = await post(TunnelPath.heartbeat, "{}", stranger);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "unknown_node" } });
  });

  it("refuses a malformed registration or another protocol version, saying why", async () => {
    const bad = await post(TunnelPath.register, JSON.stringify({ hello: helloOf("x", [small]), url: "ftp://nope" }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "bad_registration" } });
    const old = await post(TunnelPath.register, JSON.stringify({ hello: helloOf("x", [small], 1, "2.0"), url: "https://node.example" }));
    expect(old.status).toBe(400);
    expect(((await old.json()) as { error: { message: string } }).error.message).toContain(
      `speaks protocol ${PROTOCOL_VERSION}; the node speaks 2.0`,
    );
  });
});

describe("jobs over the tunnel", () => {
  async function registerAt(host: string, name: string): Promise<void> {
    const response = await post(TunnelPath.register, JSON.stringify({ hello: helloOf(name, [small]), url: `https://${host}` }));
    expect(response.status).toBe(200);
    registered.push(tunnelWelcomeSchema.parse(await response.json()));
  }

  const ask = () =>
    SELF.fetch("http://edge/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "rung-tunnelled", messages: [{ role: "user", content: "hi" }] }),
    });

  it("relays a tunnel node's answer, whatever the node sends after done", async () => {
    await registerAt("answers-then-babbles.node.test", "babbler");
    const response = await ask();
    expect(response.headers.get("x-rung-node")).toBe("babbler");
    expect(await response.json()).toMatchObject({ choices: [{ message: { content: "tunnelled" } }] });
  });

  it("moves on from a tunnel node whose call fails or whose line never ends", async () => {
    await registerAt("fails.node.test", "failing");
    await registerAt("endless-line.node.test", "endless");
    const socketNode = await TestNode.join("socket", [small]);
    const pending = ask();
    socketNode.answer(await socketNode.next("job", 5_000), ["rescued"]);
    const response = await pending;
    expect(response.status, await response.clone().text()).toBe(200);
    const body = (await response.json()) as { rung: { attempts: { node: string; outcome: string }[] } };
    const outcomes = body.rung.attempts.map((a) => `${a.node}:${a.outcome}`);
    expect(outcomes.at(-1)).toBe("socket:answered");
    for (const failed of outcomes.slice(0, -1)) expect(failed).toMatch(/^(failing|endless):node_disconnected$/);
  });
});

describe("tunnel nodes and join tokens", () => {
  it("names the pool it joined in the welcome, and drops a node whose join token is revoked", async () => {
    const made = await SELF.fetch("http://edge/admin/join-tokens", {
      method: "POST",
      headers: { authorization: "Bearer admin-key-for-tests" },
      body: JSON.stringify({ pool: "tunnel-pool" }),
    });
    const token = (await made.json()) as { id: string; token: string };
    const response = await post(TunnelPath.register, JSON.stringify({ hello: helloOf("tokened", [small]), url: "http://127.0.0.1:9/" }), {
      authorization: `Bearer ${token.token}`,
    });
    const welcome = tunnelWelcomeSchema.parse(await response.json());
    expect(welcome.pool).toBe("tunnel-pool");
    const beat = async () => {
      const call = await signed(welcome, TunnelPath.heartbeat, JSON.stringify({ nodeId: welcome.nodeId }));
      return (await post(`${TunnelPath.heartbeat}?pool=tunnel-pool`, call.body, call.headers)).status;
    };
    expect(await beat()).toBe(200);
    const revoked = await SELF.fetch(`http://edge/admin/join-tokens/${token.id}`, {
      method: "DELETE",
      headers: { authorization: "Bearer admin-key-for-tests" },
    });
    expect(((await revoked.json()) as { nodesDropped: number }).nodesDropped).toBe(1);
    // The edge no longer knows it: its next heartbeat is refused, and it would have to register again, which its token no longer allows.
    expect(await beat()).toBe(404);
  });
});
