import { SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { DONATE_CONNECT_PATH, WireErrorCode, wireError } from "@rung/shared/protocol";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Body, closeNodesAndResetPolicy, large, small } from "./ladder-fixtures.ts";
import { browserHelloOf, chat, edgeStatus, keyHeaders, type model, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

let privateKey: Record<string, string>;
let everyTierKey: Record<string, string>;
beforeAll(async () => {
  // No tiers given: a new key's prompts reach owned nodes only.
  privateKey = await keyHeaders({ name: "private-only" });
  everyTierKey = await keyHeaders({ name: "every-tier", tiers: ["private", "public"] });
});

/** A tab through the donate page's entrance, welcomed: a public node. */
async function donatedTab(name: string, models: ReturnType<typeof model>[]): Promise<TestNode> {
  const tab = await TestNode.connect("", DONATE_CONNECT_PATH);
  tab.send(browserHelloOf(name, models));
  await tab.next("welcome");
  return tab;
}

const jobsOf = (node: TestNode) => node.received.filter((m) => m.type === "job");

describe("a key's tiers decide which nodes may see its prompts", () => {
  it("answers a private-only key with 503 when only a public tab serves the model, and the same request of an every-tier key from the tab", async () => {
    const tab = await donatedTab("tab", [small]);
    const refused = await chat({ model: small.id }, privateKey);
    expect(refused.status).toBe(503);
    const error = errorBodySchema.parse(await refused.json()).error;
    expect(error.code).toBe("no_capable_node");
    expect(error.message).toContain("(private)");
    const autoError = errorBodySchema.parse(await (await chat({ model: "auto" }, privateKey)).json()).error;
    expect(autoError).toMatchObject({ code: "no_capable_node", message: expect.stringContaining("(private) serves this request") });
    expect(jobsOf(tab)).toEqual([]);

    const pending = chat({ model: small.id }, everyTierKey);
    const job = await tab.next("job");
    tab.answer(job, ["from", " the tab"]);
    const served = (await (await pending).json()) as Body;
    expect(served.rung.tier).toBe("public");
    expect(served.rung.attempts.map((a) => a.tier)).toEqual(["public"]);
  });

  it("never climbs to a public rung: the larger model only a tab serves is not on a private key's ladder", async () => {
    const owned = await TestNode.join("owned", [small]);
    const tab = await donatedTab("tab", [large]);
    const pending = chat({ model: "auto" }, privateKey);
    const job = await owned.next("job");
    // Unsure enough that an every-tier key would climb to the tab's larger model.
    owned.answer(job, ["maybe"], 0.1);
    const body = (await (await pending).json()) as Body;
    expect(body.rung.attempts.map((a) => `${a.node}:${a.tier}`)).toEqual(["owned:private"]);
    expect(body.rung.tier).toBe("private");
    expect(jobsOf(tab)).toEqual([]);

    // The same request with every tier climbs to the tab: the first half of this test could have failed.
    const climbing = chat({ model: "auto" }, everyTierKey);
    owned.answer(await owned.next("job"), ["maybe"], 0.1);
    const climbed = await tab.next("job");
    tab.answer(climbed, ["surely"]);
    expect(((await (await climbing).json()) as Body).rung.attempts.map((a) => a.node)).toEqual(["owned", "tab"]);
  });

  it("neither retries nor hedges onto a public node", async () => {
    // A hedge due as soon as the job leaves: no wall-clock wait for it to come due.
    await putPolicy({ hedge: { afterMs: 0 }, escalation: { enabled: false }, retry: { baseDelayMs: 0, maxDelayMs: 0 } });
    const owned = await TestNode.join("owned", [small]);
    const tab = await donatedTab("tab", [small]);
    const pending = chat({ model: small.id }, privateKey);
    const first = await owned.next("job");
    // Past the hedge delay with no token (a round trip through the Durable Object runs its due timer first), then a
    // retryable failure: both would move to the tab if it were allowed.
    await edgeStatus();
    owned.send({ type: "job-error", jobId: first.jobId, error: wireError(WireErrorCode.engineFailure, "out of memory", true) });
    const retried = await owned.next("job");
    owned.answer(retried, ["owned", " answer"]);
    const body = (await (await pending).json()) as Body;
    expect(body.choices[0]?.message.content).toBe("owned answer");
    expect(body.rung.attempts.every((a) => a.tier === "private")).toBe(true);
    expect(jobsOf(tab)).toEqual([]);
  });

  it("lists to a key only the models and nodes its tiers reach, and counts answers per tier on the status page", async () => {
    await TestNode.join("owned", [small]);
    await donatedTab("tab", [large]);
    const ids = async (key: Record<string, string>) =>
      ((await (await SELF.fetch("http://edge/v1/models", { headers: key })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(await ids(privateKey)).toContain(small.id);
    expect(await ids(privateKey)).not.toContain(large.id);
    expect(await ids(everyTierKey)).toEqual(expect.arrayContaining([small.id, large.id]));

    const status = (await (await SELF.fetch("http://edge/v1/status", { headers: privateKey })).json()) as {
      pool: string;
      servedByTier: Record<string, number>;
      catalog: { nodes: { name: string }[] }[];
    };
    expect(status.pool).toBe("main");
    // A key's status and health show the nodes its prompts may reach, not the donated tabs it may not.
    expect(status.catalog.flatMap((m) => m.nodes.map((n) => n.name))).toEqual(["owned"]);
    const health = (await (await SELF.fetch("http://edge/health", { headers: privateKey })).json()) as { nodes: string[] };
    expect(health.nodes).toEqual(["owned"]);
    expect(Object.keys(status.servedByTier).sort()).toEqual(["private", "public"]);
  });
});
