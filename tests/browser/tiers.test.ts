import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { type ModelFileServer, startModelFileServer } from "../../tools/gguf/model-file-server.ts";
import { type LocalFabric, rungOf, startFabric } from "../e2e/harness/fabric.ts";
import { launchChromium } from "./chromium.ts";
import { DonorTab } from "./donor-tab.ts";

/** The model the donated tab serves, and later the owner's agent too, from the same file. */
const MODEL = "rung-small";
const ADMIN_KEY = "admin-key-for-tier-tests";
/** The owner's rung-agent, private: it joins with a join token once the tab serves alone. */
const AGENT = "owned-agent";
/** Requests per key and tier mix below: enough that one routed to the wrong tier would show. */
const ROUNDS = 6;
const HI = { model: MODEL, messages: [{ role: "user" as const, content: "Say hello." }], temperature: 0, max_tokens: 8 };

/**
 * A key's tiers decide whether its prompts may reach a volunteer's tab. On a
 * closed edge (as deployed) a tab in Chromium donates through the edge's own
 * page; a key with the default tiers (private only) is refused the model only
 * the tab serves, and the tab never sees its prompt; a key that allows public
 * nodes is answered by the tab. Then the owner's rung-agent joins the same
 * pool with a join token, serving the same model file: a private-only key is
 * answered by the agent alone, every time and even with the agent busy; a
 * public-only key by the tab; a key of both tiers by either; and once the agent
 * is gone the private-only key is refused again, never sent to the tab.
 */
describe("tiers with a donated tab", () => {
  let dir: string;
  let files: ModelFileServer;
  let fabric: LocalFabric;
  let browser: Browser;
  let tab: DonorTab;
  let modelPath: string;
  let privateClient: OpenAI;
  let everyTierKey: string;
  let everyTierClient: OpenAI;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-tiers-"));
    modelPath = await ensureTestModel("small", dir);
    files = await startModelFileServer(dir);
    fabric = await startFabric({
      vars: {
        RUNG_OPEN_EDGE: "false",
        RUNG_ADMIN_KEY: ADMIN_KEY,
        RUNG_POLICY: JSON.stringify({ donate: { ggufModels: [{ id: MODEL, url: `${files.url}/${MODEL}.gguf` }] } }),
      },
      // The harness watches the agent join on /health, which names the pool's nodes (of every tier) to the admin key.
      apiKey: ADMIN_KEY,
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await fabric?.stop();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("takes no tab while no key of the pool may use one, and says why", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${fabric.url}/donate`);
      await page.waitForFunction(() => /not accepting donated tabs/.test(document.getElementById("notice-list")?.textContent ?? ""));
      expect(await page.textContent("#notice-list")).toContain("No key of this pool may send its prompts to donated tabs");
      expect(await page.isDisabled("#start")).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("takes the tab once a key may use public nodes", async () => {
    privateClient = clientOf(await newKey({ name: "private only" }));
    everyTierKey = await newKey({ name: "every tier", tiers: ["private", "public"] });
    everyTierClient = clientOf(everyTierKey);
    tab = await DonorTab.open(browser, fabric.url);
    await tab.startDonating(MODEL);
    await expect.poll(nodeNames, { timeout: 10_000 }).toEqual([expect.stringMatching(/^tab-/)]);
  });

  it("refuses a private-only key the tab's model with 503 no_capable_node, and the tab gets no job", async () => {
    const refused = await privateClient.chat.completions.create(HI).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const error = refused as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(503);
    expect(error.code).toBe("no_capable_node");
    expect(error.message).toContain("(private)");
    // Nor does the model show in the private key's list.
    expect((await privateClient.models.list()).data.map((m) => m.id)).not.toContain(MODEL);
    expect((await tab.figures()).jobsServed).toBe(0);
  });

  it("answers a key with the public tier from the tab, with rung.tier public", async () => {
    const { data, response } = await everyTierClient.chat.completions.create(HI).withResponse();
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(response.headers.get("x-rung-node")).toMatch(/^tab-/);
    const rung = rungOf(data);
    expect(rung.tier).toBe("public");
    expect(rung.attempts.map((a) => `${a.node.replace(/^tab-.*/, "tab")}:${a.tier}:${a.outcome}`)).toEqual(["tab:public:answered"]);
    // The tab's own count: the one job it served is this one (the page counts it once its answer is sent).
    await expect.poll(async () => (await tab.figures()).jobsServed, { timeout: 5_000 }).toBe(1);
  });

  it("takes the owner's agent with a join token beside the tab, serving the same model file", async () => {
    const token = await adminCreate("/join-tokens", { name: "owner's agents" });
    await fabric.join({ name: AGENT, models: [modelPath], extraArgs: ["--token", token] });
    expect((await nodeNames()).sort()).toEqual([AGENT, expect.stringMatching(/^tab-/)]);
    // One file, two engines (node-llama-cpp, wllama): greedy answers are the same text.
    const publicClient = clientOf(await newKey({ name: "public only", tiers: ["public"] }));
    const [fromAgent, fromTab] = await Promise.all([privateClient.chat.completions.create(HI), publicClient.chat.completions.create(HI)]);
    expect([rungOf(fromAgent).node, rungOf(fromTab).node.replace(/^tab-.*/, "tab")]).toEqual([AGENT, "tab"]);
    expect(fromAgent.choices[0]?.message.content).toBe(fromTab.choices[0]?.message.content);
  });

  it("answers a private-only key from the agent alone, every request, even while the agent is busy", async () => {
    const jobsBefore = (await tab.figures()).jobsServed;
    const servedBefore = await servedByTier();
    // All at once: the agent runs two jobs at a time (its default slots), so the rest wait while the tab is idle,
    // and still no prompt of this key may reach the tab.
    const answers = await Promise.all(Array.from({ length: ROUNDS }, () => privateClient.chat.completions.create(HI).withResponse()));
    for (const { data, response } of answers) {
      expect(response.headers.get("x-rung-node")).toBe(AGENT);
      const rung = rungOf(data);
      expect([rung.node, rung.tier]).toEqual([AGENT, "private"]);
      expect(rung.attempts.every((a) => a.node === AGENT && a.tier === "private")).toBe(true);
    }
    const served = await servedByTier();
    expect({ private: served.private - servedBefore.private, public: served.public - servedBefore.public }).toEqual({
      private: ROUNDS,
      public: 0,
    });
    expect((await tab.figures()).jobsServed).toBe(jobsBefore);
  });

  it("answers a public-only key from the tab alone", async () => {
    const publicClient = clientOf(await newKey({ name: "public only, again", tiers: ["public"] }));
    const jobsBefore = (await tab.figures()).jobsServed;
    for (let i = 0; i < ROUNDS; i++) {
      const { data, response } = await publicClient.chat.completions.create(HI).withResponse();
      expect(response.headers.get("x-rung-node")).toMatch(/^tab-/);
      const rung = rungOf(data);
      expect(rung.tier).toBe("public");
      expect(rung.attempts.map((a) => `${a.node.replace(/^tab-.*/, "tab")}:${a.tier}:${a.outcome}`)).toEqual(["tab:public:answered"]);
    }
    await expect.poll(async () => (await tab.figures()).jobsServed, { timeout: 5_000 }).toBe(jobsBefore + ROUNDS);
  });

  it("answers a key of both tiers from either node, each answer traced with its node's tier", async () => {
    const jobsBefore = (await tab.figures()).jobsServed;
    const servedBefore = await servedByTier();
    const byNode: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { data, response } = await everyTierClient.chat.completions.create(HI).withResponse();
      const rung = rungOf(data);
      expect(response.headers.get("x-rung-node")).toBe(rung.node);
      const node = rung.node.replace(/^tab-.*/, "tab");
      expect(`${node}:${rung.tier}`).toBe(node === "tab" ? "tab:public" : `${AGENT}:private`);
      byNode.push(node);
    }
    // Which node answers is the router's choice; the books must agree with the traces, whatever it chose.
    const fromTab = byNode.filter((node) => node === "tab").length;
    const served = await servedByTier();
    expect({ private: served.private - servedBefore.private, public: served.public - servedBefore.public }).toEqual({
      private: ROUNDS - fromTab,
      public: fromTab,
    });
    await expect.poll(async () => (await tab.figures()).jobsServed, { timeout: 5_000 }).toBe(jobsBefore + fromTab);
  });

  it("refuses the private-only key with 503 once the agent has gone, never falling back to the tab", async () => {
    await fabric.agent(AGENT).stop();
    await expect.poll(nodeNames, { timeout: 10_000 }).toEqual([expect.stringMatching(/^tab-/)]);
    const jobsBefore = (await tab.figures()).jobsServed;
    const refused = await privateClient.chat.completions.create(HI).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const error = refused as InstanceType<typeof OpenAI.APIError>;
    expect([error.status, error.code]).toEqual([503, "no_capable_node"]);
    expect(error.message).toContain("(private)");
    expect((await tab.figures()).jobsServed).toBe(jobsBefore);
    // The key of both tiers is still answered, by the tab.
    expect(rungOf(await everyTierClient.chat.completions.create(HI)).tier).toBe("public");
  });

  /** Makes a key or a join token through the admin API (`path` is `/keys` or `/join-tokens`); returns its secret. */
  async function adminCreate(path: string, body: object): Promise<string> {
    const response = await fetch(`${fabric.url}/admin${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { key?: string; token?: string };
    return created.key ?? created.token ?? "";
  }

  function newKey(body: object): Promise<string> {
    return adminCreate("/keys", body);
  }

  function clientOf(key: string): OpenAI {
    return new OpenAI({ baseURL: `${fabric.url}/v1`, apiKey: key, maxRetries: 0 });
  }

  /** Answers since the edge started, by the tier of the node that gave them: the pool's count, which /v1/status tells a key of both tiers (not the admin key). */
  async function servedByTier(): Promise<{ private: number; public: number }> {
    const response = await fetch(`${fabric.url}/v1/status`, { headers: { authorization: `Bearer ${everyTierKey}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { servedByTier: { private: number; public: number } }).servedByTier;
  }

  /** The nodes taking jobs in the main pool, as /health names them to the admin key. */
  async function nodeNames(): Promise<string[]> {
    const health = (await (await fetch(`${fabric.url}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as {
      nodes?: string[];
    };
    return health.nodes ?? [];
  }
});
