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

/** A model only the donated tab serves: no agent joins this edge. */
const MODEL = "rung-small";
const ADMIN_KEY = "admin-key-for-tier-tests";
const HI = { model: MODEL, messages: [{ role: "user" as const, content: "Say hello." }], temperature: 0, max_tokens: 8 };

/**
 * A key's tiers decide whether its prompts may reach a volunteer's tab. On a
 * closed edge (as deployed) a tab in Chromium donates through the edge's own
 * page; a key with the default tiers (private only) is refused the model only
 * the tab serves, and the tab never sees its prompt; a key that allows public
 * nodes is answered by the tab.
 */
describe("tiers with a donated tab", () => {
  let dir: string;
  let files: ModelFileServer;
  let fabric: LocalFabric;
  let browser: Browser;
  let tab: DonorTab;
  let privateClient: OpenAI;
  let everyTierClient: OpenAI;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-tiers-"));
    await ensureTestModel("small", dir);
    files = await startModelFileServer(dir);
    fabric = await startFabric({
      vars: {
        RUNG_OPEN_EDGE: "false",
        RUNG_ADMIN_KEY: ADMIN_KEY,
        RUNG_POLICY: JSON.stringify({ donate: { ggufModels: [{ id: MODEL, url: `${files.url}/${MODEL}.gguf` }] } }),
      },
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
    everyTierClient = clientOf(await newKey({ name: "every tier", tiers: ["private", "public"] }));
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

  async function newKey(body: object): Promise<string> {
    const response = await fetch(`${fabric.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { key: string }).key;
  }

  function clientOf(key: string): OpenAI {
    return new OpenAI({ baseURL: `${fabric.url}/v1`, apiKey: key, maxRetries: 0 });
  }

  /** The nodes taking jobs in the main pool, as /health names them to the admin key. */
  async function nodeNames(): Promise<string[]> {
    const health = (await (await fetch(`${fabric.url}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as {
      nodes?: string[];
    };
    return health.nodes ?? [];
  }
});
