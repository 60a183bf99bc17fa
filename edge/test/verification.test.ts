import { env, SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { DONATE_CONNECT_PATH, type Job } from "@rung/shared/protocol";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Quarantine } from "../src/fabric/verification-book.ts";
import { type Body, closeNodesAndResetPolicy } from "./ladder-fixtures.ts";
import { browserHelloOf, chat, edgeStatus, keyHeaders, model, putPolicy, sseData, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

const checked = model("checked-m", 1_000_000);
const TRUTH = ["the", " truth"];
const LIE = ["a", " lie"];

let everyTier: Record<string, string>;
let verifying: Record<string, string>;
beforeAll(async () => {
  everyTier = await keyHeaders({ name: "every-tier", tiers: ["private", "public"] });
  verifying = await keyHeaders({ name: "verifying", tiers: ["private", "public"], verify: true });
});

/** A tab through the donate entrance, with more slots than a tab has: probation, not its hello, limits it. */
async function donatedTab(name: string, slots = 1): Promise<TestNode> {
  const tab = await TestNode.connect("", DONATE_CONNECT_PATH);
  const hello = browserHelloOf(name, [checked]);
  tab.send({ ...hello, node: { ...hello.node, slots } });
  await tab.next("welcome");
  return tab;
}

const greedy = { model: checked.id, temperature: 0 };
const textOf = async (response: Response) => ((await response.json()) as Body).choices[0]!.message.content;

async function quarantines(): Promise<Quarantine[]> {
  const response = await SELF.fetch("http://edge/admin/quarantine", { headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Quarantine[] }).data;
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await SELF.fetch("http://edge/metrics", { headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && labels.split(",").every((label) => l.includes(label)));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** The standing `/v1/status` shows for a public node, by name. */
async function standingOf(name: string): Promise<string | undefined> {
  const status = (await edgeStatus()) as unknown as {
    catalog: { nodes: { name: string; verification?: { standing: string } }[] }[];
  };
  return status.catalog.flatMap((m) => m.nodes).find((n) => n.name === name)?.verification?.standing;
}

/** A tab takes a client's greedy job while it is the only node; then a private node joins, which can check it. */
async function tabServingThenOwnerJoins(tabName: string, headers: Record<string, string>, stream = false) {
  const tab = await donatedTab(tabName);
  const pending = chat({ ...greedy, stream }, headers);
  const job = await tab.next("job");
  const owned = await TestNode.join(`owner-of-${tabName}`, [checked]);
  return { tab, owned, job, pending };
}

describe("a public node's greedy answers are checked against a trusted node", () => {
  it("runs a sampled answer again on a private node, and quarantines the tab whose answer differs, with the evidence", async () => {
    const { tab, owned, job, pending } = await tabServingThenOwnerJoins("liar", everyTier);
    tab.answer(job, LIE);
    // Without a verify-demanding key the lie reaches the client: the check comes after.
    expect(await textOf(await pending)).toBe("a lie");

    const check = await owned.next("job");
    expect(check.jobId).toMatch(/\.check$/);
    expect(check.input).toEqual(job.input);
    expect(check.sampling).toEqual(job.sampling);
    owned.answer(check, TRUTH);

    await vi.waitFor(async () => expect((await quarantines()).some((q) => q.node === "liar")).toBe(true));
    const evidence = (await quarantines()).find((q) => q.node === "liar")!;
    expect(evidence).toMatchObject({ model: checked.id, kind: "rerun", answer: "a lie", expected: "the truth", referee: "owner-of-liar" });
    // A key sees who was quarantined, never the texts (they answer someone's prompt).
    const shown = ((await edgeStatus()) as unknown as { quarantined: Record<string, unknown>[] }).quarantined.find(
      (q) => q.node === "liar",
    );
    expect(shown).toMatchObject({ kind: "rerun", model: checked.id });
    expect(shown).not.toHaveProperty("answer");
    expect(await metric("rung_verification_checks_total", 'kind="rerun",outcome="differed"')).toBeGreaterThanOrEqual(1);
    expect(await metric("rung_nodes_quarantined", 'pool="main"')).toBe(1);

    // Quarantined: still connected, never sent a job again; the owner serves.
    const next = chat(greedy, everyTier);
    owned.answer(await owned.next("job"), TRUTH);
    expect(await textOf(await next)).toBe("the truth");
    expect(tab.received.filter((m) => m.type === "job")).toEqual([]);
    expect(tab.closed).toBe(false);
  });

  it("marks a tab whose answer agrees as verified, which ends its probation", async () => {
    const { tab, owned, job, pending } = await tabServingThenOwnerJoins("honest", everyTier);
    expect(await standingOf("honest")).toBe("probation");
    tab.answer(job, TRUTH);
    expect(await textOf(await pending)).toBe("the truth");
    owned.answer(await owned.next("job"), TRUTH);
    await vi.waitFor(async () => expect(await standingOf("honest")).toBe("verified"));
    expect(await metric("rung_verification_checks_total", 'kind="rerun",outcome="agreed"')).toBeGreaterThanOrEqual(1);
  });

  it("keeps a tab on probation to one job at a time, however many slots it announces", async () => {
    const tab = await donatedTab("eager", 4);
    const first = chat(greedy, everyTier);
    const second = chat(greedy, everyTier);
    const job = await tab.next("job");
    await expect(tab.next("job", 300)).rejects.toThrow(/no job frame/);
    tab.answer(job, TRUTH);
    // Nobody could check the first answer (no private node, no canary): the second job comes once the slot is free.
    tab.answer(await tab.next("job"), TRUTH);
    expect(await Promise.all([first, second].map(async (r) => textOf(await r)))).toEqual(["the truth", "the truth"]);
  });

  it("sends a canary where no trusted node serves the model, and quarantines a tab that gets it wrong", async () => {
    expect(
      (await putPolicy({ verification: { canaries: [{ model: checked.id, prompt: "What is 6 times 7?", answer: "42", maxTokens: 4 }] } }))
        .status,
    ).toBe(200);
    const tab = await donatedTab("canary-liar");
    const pending = chat(greedy, everyTier);
    tab.answer(await tab.next("job"), TRUTH);
    expect(await textOf(await pending)).toBe("the truth");
    const canary = await tab.next("job");
    expect(canary.jobId).toMatch(/\.canary$/);
    expect(canary).toMatchObject({
      input: { kind: "chat", messages: [{ role: "user", content: "What is 6 times 7?" }] },
      sampling: { temperature: 0, maxTokens: 4 },
    });
    tab.answer(canary, ["41"]);
    await vi.waitFor(async () =>
      expect((await quarantines()).find((q) => q.node === "canary-liar")).toMatchObject({
        kind: "canary",
        answer: "41",
        expected: "42",
        referee: "canary",
      }),
    );
  });
});

describe("a key that demands verified answers", () => {
  const answeredBy = (body: Body) => body.rung.attempts.map((a) => `${a.node}:${a.outcome}`);

  it("holds a tab's answer until a private node answers the same, then commits it", async () => {
    const { tab, owned, job, pending } = await tabServingThenOwnerJoins("agreeing", verifying);
    tab.answer(job, TRUTH);
    const second = await owned.next("job");
    expect(second.input).toEqual(job.input);
    owned.answer(second, TRUTH);
    const body = (await (await pending).json()) as Body;
    expect(body.choices[0]!.message.content).toBe("the truth");
    expect(answeredBy(body)).toEqual(["agreeing:held", "owner-of-agreeing:answered"]);
    await vi.waitFor(async () => expect(await standingOf("agreeing")).toBe("verified"));
  });

  it("never delivers a tab's lie: the private node's answer commits and the tab is quarantined, streamed too", async () => {
    const { tab, owned, job, pending } = await tabServingThenOwnerJoins("streaming-liar", verifying, true);
    tab.answer(job, LIE);
    owned.answer(await owned.next("job"), TRUTH);
    const events = await sseData(await pending);
    const text = events
      .filter((e) => e !== "[DONE]")
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe("the truth");
    expect(events.join("")).not.toContain("lie");
    await vi.waitFor(async () =>
      expect((await quarantines()).find((q) => q.node === "streaming-liar")).toMatchObject({ kind: "confirm", answer: "a lie" }),
    );
  });

  it("answers 503 unverified_answer when no second node answers, and keeps its sampled requests off public nodes", async () => {
    expect((await putPolicy({ queue: { maxWaitMs: 200 } })).status).toBe(200);
    const tab = await donatedTab("alone");
    const pending = chat(greedy, verifying);
    tab.answer(await tab.next("job"), TRUTH);
    const refused = await pending;
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(errorBodySchema.parse(await refused.json()).error.code).toBe("unverified_answer");

    const sampled = await chat({ model: checked.id, temperature: 0.7 }, verifying);
    expect(sampled.status).toBe(503);
    expect(errorBodySchema.parse(await sampled.json()).error.message).toContain("only greedy ones (temperature 0) can be checked");
    expect(tab.received.filter((m): m is Job => m.type === "job")).toEqual([]);
  });
});
