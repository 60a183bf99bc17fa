import { env, runInDurableObject, SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { DONATE_CONNECT_PATH } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import app from "../src/index.ts";
import { browserHelloOf, chat, helloOf, model, putPolicy, resetPolicy, TestNode } from "./test-node.ts";
import { wokenRegistry } from "./woken-registry.ts";

afterEach(async () => {
  await TestNode.closeAll();
  await resetPolicy();
});

const tiny = model("tiny-q8", 500_000);

/** A tab that came in through the donate page's entrance and said hello. */
async function donatedTab(name: string, hello = browserHelloOf(name, [tiny])): Promise<TestNode> {
  const node = await TestNode.connect("", DONATE_CONNECT_PATH);
  node.send(hello);
  return node;
}

type StatusNode = { name: string; kind?: string; trust: string };
async function statusNodes(): Promise<StatusNode[]> {
  const status = (await (await SELF.fetch("http://edge/v1/status")).json()) as { catalog: { nodes: StatusNode[] }[] };
  return status.catalog.flatMap((entry) => entry.nodes);
}

describe("/donate/connect", () => {
  it("takes a public browser tab that then answers a chat completion end to end", async () => {
    const tab = await donatedTab("tab-1");
    await tab.next("welcome");
    const pending = chat({ model: "auto" });
    const job = await tab.next("job");
    expect(job.model).toBe("tiny-q8");
    tab.answer(job, ["Hello", " from", " a tab"]);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-rung-node")).toBe("tab-1");
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("Hello from a tab");
  });

  it("refuses a hello that claims the private tier, or no tier, or a native agent, with a fatal error", async () => {
    const { trust: _absent, ...tierless } = browserHelloOf("says-nothing", [tiny]).node;
    const hellos = [
      browserHelloOf("claims-private", [tiny], "private"),
      { ...browserHelloOf("says-nothing", [tiny]), node: tierless },
      { ...helloOf("agent", [tiny]), node: { ...helloOf("agent", [tiny]).node, trust: "public" as const } },
    ];
    for (const hello of hellos) {
      const node = await donatedTab(hello.node.name, hello);
      const refusal = await node.next("error");
      expect(refusal).toMatchObject({ fatal: true, error: { code: "unauthorized", retryable: false } });
      expect(refusal.error.message).toMatch(/public tier only.*kind "browser".*trust "public"/);
      await expect(node.next("welcome", 500)).rejects.toThrow(/closed|no welcome/);
    }
    expect((await chat({ model: "auto" })).status).toBe(503);
  });

  it("answers 403 in OpenAI's shape when the operator has closed donations, and opens again with the policy", async () => {
    await putPolicy({ donate: { acceptPublicNodes: false } });
    const refused = await SELF.fetch(`http://edge${DONATE_CONNECT_PATH}`, { headers: { upgrade: "websocket" } });
    expect(refused.status).toBe(403);
    expect(refused.webSocket).toBeNull();
    const error = errorBodySchema.parse(await refused.json()).error;
    expect(error).toMatchObject({ code: "donations_closed", type: "permission_error" });
    expect(error.message).toMatch(/not taking donated compute/);
    // Owned machines still join.
    await TestNode.join("owned", [tiny]);
    await resetPolicy();
    await (await donatedTab("tab-again")).next("welcome");
  });

  it("wants a WebSocket upgrade", async () => {
    const plain = await SELF.fetch(`http://edge${DONATE_CONNECT_PATH}`);
    expect(plain.status).toBe(400);
    expect(errorBodySchema.parse(await plain.json()).error.code).toBe("websocket_expected");
  });

  it("on a closed edge needs no join token, while /v1/nodes/connect does", async () => {
    // Closed, with a key that may use donated tabs: otherwise a tab would have no work and is refused.
    const made = await SELF.fetch("http://edge/admin/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` },
      body: JSON.stringify({ name: "donations-welcome", tiers: ["private", "public"] }),
    });
    expect(made.status).toBe(201);
    const withToken = { ...env, RUNG_OPEN_EDGE: "false", RUNG_NODE_TOKEN: "join-me" };
    const owned = await app.request("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, withToken);
    expect(owned.status).toBe(401);
    expect(errorBodySchema.parse(await owned.json()).error.code).toBe("invalid_node_token");
    const tab = await TestNode.from(await app.request(DONATE_CONNECT_PATH, { headers: { upgrade: "websocket" } }, withToken));
    tab.send(browserHelloOf("tokenless", [tiny]));
    await tab.next("welcome");
  });
});

describe("model file hashes at /donate/connect", () => {
  const pools = "ab".repeat(32);
  const other = "cd".repeat(32);
  const withPoolsFile = () =>
    putPolicy({ donate: { ggufModels: [{ id: "tiny-q8", url: "https://models.example.com/tiny-q8.gguf", sha256: pools }] } });

  it("takes a tab that announces the policy's sha256, and one too old to announce any", async () => {
    expect((await withPoolsFile()).status).toBe(200);
    await (await donatedTab("hashed", browserHelloOf("hashed", [{ ...tiny, sha256: pools }]))).next("welcome");
    await (await donatedTab("older")).next("welcome");
    expect((await statusNodes()).map((n) => n.name).sort()).toEqual(["hashed", "older"]);
  });

  it("refuses, with a fatal model_hash_mismatch naming both hashes, a tab that announces another file", async () => {
    await withPoolsFile();
    const helper = model("helper", 100_000);
    const tab = await donatedTab("stale", browserHelloOf("stale", [helper, { ...tiny, sha256: other }]));
    const refusal = await tab.next("error");
    expect(refusal).toMatchObject({ fatal: true, error: { code: "model_hash_mismatch", retryable: false } });
    expect(refusal.error.message).toBe(
      `This pool's policy names another file for tiny-q8: its SHA-256 is ${pools}, this tab announced ${other}. ` +
        "Reload the donate page to download the pool's current file.",
    );
    await expect(tab.next("welcome", 500)).rejects.toThrow(/closed|no welcome/);
    // The whole hello, not only the model: the tab's other model is not served either.
    expect(await statusNodes()).toEqual([]);
  });

  it("lets in any hash for a model the policy gives none for, and owned machines whatever they loaded", async () => {
    await putPolicy({ donate: { ggufModels: [{ id: "tiny-q8", url: "https://models.example.com/tiny-q8.gguf" }] } });
    await (await donatedTab("unpinned", browserHelloOf("unpinned", [{ ...tiny, sha256: other }]))).next("welcome");
    await withPoolsFile();
    await TestNode.join("owned", [{ ...tiny, sha256: other }]);
    const lowered = await TestNode.connect();
    lowered.send(browserHelloOf("lowered", [{ ...tiny, sha256: other }]));
    await lowered.next("welcome");
    expect((await statusNodes()).map((n) => n.name).sort()).toEqual(["lowered", "owned", "unpinned"]);
  });
});

describe("trust on the status page", () => {
  it("shows each node's tier: public for donated tabs, private for owned nodes unless they say public", async () => {
    await (await donatedTab("tab")).next("welcome");
    await TestNode.join("owned", [tiny]);
    const modest = await TestNode.connect();
    modest.send(browserHelloOf("modest", [tiny]));
    await modest.next("welcome");
    const nodes = await statusNodes();
    expect(nodes.map(({ name, kind, trust }) => ({ name, kind, trust })).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "modest", kind: "browser", trust: "public" },
      { name: "owned", kind: "native", trust: "private" },
      { name: "tab", kind: "browser", trust: "public" },
    ]);
  });

  it("keeps the tier on the socket, so a registry rebuilt after the object wakes still knows it", async () => {
    const tab = await donatedTab("sleeper");
    const { nodeId } = await tab.next("welcome");
    const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
    const seen = await runInDurableObject(stub, (_instance, state) => {
      const registry = wokenRegistry(state);
      const socket = state.getWebSockets(nodeId)[0]!;
      return { trust: registry.views().find((view) => view.id === nodeId)?.trust, attachment: registry.attachmentOf(socket) };
    });
    expect(seen.trust).toBe("public");
    expect(seen.attachment).toMatchObject({ nodeId, entrance: "donate", trust: "public", joined: true });
  });
});
