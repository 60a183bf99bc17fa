import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type OpenAI from "openai";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { type ModelFileServer, startModelFileServer } from "../../tools/gguf/model-file-server.ts";
import { type LocalFabric, startFabric } from "../e2e/harness/fabric.ts";
import { repoRoot } from "../e2e/harness/paths.ts";
import { launchChromium } from "./chromium.ts";
import { DonorTab } from "./donor-tab.ts";

const MODEL = "rung-small";
const ADMIN_KEY = "admin-key-for-browser-tests";
const QUESTION = [{ role: "user" as const, content: "Tell me a story about a robot." }];
const GREEDY = { model: MODEL, messages: QUESTION, temperature: 0, max_tokens: 24 };

interface StatusNode {
  name: string;
  kind: string;
  trust: string;
  tokensPerSecond: number;
}

interface Answer {
  text: string;
  pieces: string[];
  completionTokens: number;
  node: string | null;
}

/**
 * A volunteer's tab on the edge's own /donate page: Debian's Chromium loads the
 * page from the local edge (workerd), consents, loads a generated GGUF with
 * wllama from a loopback model host, and answers requests sent through the
 * edge with the official openai client. The same requests then go to a
 * native agent on the same file, and the answers must agree token for token.
 */
describe("the donate page", () => {
  let dir: string;
  let files: ModelFileServer;
  let fabric: LocalFabric;
  let browser: Browser;
  let client: OpenAI;
  let tab: DonorTab;
  const fromTab: Answer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-donate-"));
    await ensureTestModel("small", dir);
    files = await startModelFileServer(dir);
    fabric = await startFabric({
      vars: {
        RUNG_ADMIN_KEY: ADMIN_KEY,
        RUNG_POLICY: JSON.stringify({ donate: { ggufModels: [{ id: MODEL, url: `${files.url}/${MODEL}.gguf` }] } }),
      },
    });
    browser = await launchChromium();
    client = fabric.client;
  });

  afterAll(async () => {
    await browser?.close();
    await fabric?.stop();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is served cross-origin isolated and proposes the pool's model for this CPU", async () => {
    tab = await DonorTab.open(browser, fabric.url);
    expect(await tab.page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await tab.text("#device-facts")).toMatch(/CPU cores\d+/);
    // Headless Chromium here has no usable GPU, so the page explains and offers the CPU engine.
    expect(await tab.text("#plan-notes")).toContain("No usable WebGPU adapter");
    expect(await tab.text("#model-select")).toMatch(new RegExp(`^${MODEL} · CPU \\(wllama\\) · 4\\.\\d MB`));
    expect(await tab.page.isDisabled("#start")).toBe(true);
  });

  it("joins the pool as a public browser node once the donor consents", async () => {
    await tab.startDonating(MODEL);
    const nodes = await nodesServing(MODEL);
    expect(nodes).toEqual([
      expect.objectContaining({ kind: "browser", trust: "public", capabilities: expect.objectContaining({ logprobs: true }) }),
    ]);
    // The tab announces the speed it measured after loading, as an agent does.
    expect(nodes[0]!.tokensPerSecond).toBeGreaterThan(0);
    expect(await tab.text("#status")).toContain(`Serving ${MODEL} to the pool`);
  });

  it("answers a chat completion through the edge, whole and streamed", async () => {
    const whole = await answerWhole(client);
    const streamed = await answerStreamed(client);
    expect(whole.text.length).toBeGreaterThan(0);
    expect(whole.node).toMatch(/^tab-/);
    expect(streamed.text).toBe(whole.text);
    expect(streamed.pieces.length).toBeGreaterThan(1);
    fromTab.push(whole, streamed);
  });

  it("shows the jobs it served while serving (screenshot)", async () => {
    const figures = await tab.figures();
    expect(figures.jobsServed).toBeGreaterThanOrEqual(2);
    expect(figures.tokens).toBe(fromTab.reduce((sum, answer) => sum + answer.completionTokens, 0));
    expect(await tab.text("#rate")).toMatch(/tok\/s$/);
    expect(tab.log.filter((line) => line.includes("CSP violation"))).toEqual([]);
    await tab.page.screenshot({ path: join(repoRoot, ".cache", "test-results", "donate-serving.png"), fullPage: true });
  });

  // The page says "Paused" when it has closed its socket; the edge learns of the close on its own
  // turn, so what the edge sees is waited for, not read once.
  it("pauses, leaving the pool, and resumes without reloading the model", async () => {
    await tab.page.click("#pause");
    await tab.waitForStatus(/^Paused/);
    await expect.poll(() => nodesServing(MODEL), { timeout: 10_000 }).toEqual([]);
    await tab.page.click("#resume");
    await tab.waitForStatus(/^Serving /);
    await expect.poll(() => nodesServing(MODEL), { timeout: 10_000 }).toHaveLength(1);
    expect((await answerWhole(client)).text).toBe(fromTab[0]!.text);
  });

  it("stops taking jobs while hidden, as the donor chose, and comes back when shown", async () => {
    await setHidden(true);
    await tab.waitForStatus(/^Paused while this tab is hidden/);
    await expect.poll(() => nodesServing(MODEL), { timeout: 10_000 }).toEqual([]);
    await setHidden(false);
    await tab.waitForStatus(/^Serving /);
    await expect.poll(() => nodesServing(MODEL), { timeout: 10_000 }).toHaveLength(1);
  });

  it("gives the same greedy answer as a native agent on the same file, token for token", async () => {
    await tab.page.click("#stop");
    await tab.waitForStatus(/^Stopped/);
    await expect.poll(() => nodesServing(MODEL), { timeout: 10_000 }).toEqual([]);
    const agent = fabric.start({ models: [join(dir, `${MODEL}.gguf`)], name: "native-agent" });
    try {
      await agent.joined([MODEL]);
      const whole = await answerWhole(client);
      const streamed = await answerStreamed(client);
      expect(whole.node).toBe("native-agent");
      expect(whole).toEqual({ ...fromTab[0], node: "native-agent" });
      expect(streamed.pieces).toEqual(fromTab[1]!.pieces);
      expect(streamed.completionTokens).toBe(fromTab[1]!.completionTokens);
    } finally {
      await agent.stop();
    }
  });

  it("loads the cached model again without downloading it", async () => {
    expect(files.downloads.get(`${MODEL}.gguf`)).toBe(1);
    await tab.page.reload();
    await tab.page.waitForSelector("#model-select:not([disabled])");
    await tab.startDonating(MODEL);
    expect(files.downloads.get(`${MODEL}.gguf`)).toBe(1);
  });

  it("falls back to a smaller model when the proposed one fails to load, without a page reload", async () => {
    await tab.page.click("#stop");
    await tab.waitForStatus(/^Stopped/);
    const broken = { id: "rung-broken", url: `${files.url}/missing.gguf`, sizeBytes: 50 * 1024 * 1024 };
    await putPolicy({ donate: { ggufModels: [broken, { id: MODEL, url: `${files.url}/${MODEL}.gguf` }] } });
    await tab.page.reload();
    await tab.page.waitForSelector("#model-select:not([disabled])");
    // The larger, broken model is proposed first.
    await tab.startDonating("rung-broken");
    expect(await tab.text("#notice-list")).toContain("The model could not be loaded");
    expect(await tab.text("#notice-list")).toContain(`Switching to ${MODEL}.`);
    expect((await answerWhole(client)).text).toBe(fromTab[0]!.text);
  });

  /** Headless tabs are never hidden; the page only reads `document.hidden` and its event. */
  async function setHidden(hidden: boolean): Promise<void> {
    await tab.page.evaluate((value) => {
      Object.defineProperty(document, "hidden", { value, configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
  }

  async function nodesServing(model: string): Promise<StatusNode[]> {
    const status = (await (await fetch(`${fabric.url}/v1/status`)).json()) as { catalog: { id: string; nodes: StatusNode[] }[] };
    return status.catalog.find((entry) => entry.id === model)?.nodes ?? [];
  }

  async function putPolicy(policy: unknown): Promise<void> {
    const response = await fetch(`${fabric.url}/admin/policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(policy),
    });
    expect(response.status).toBe(200);
  }
});

async function answerWhole(client: OpenAI): Promise<Answer> {
  const { data, response } = await client.chat.completions.create(GREEDY).withResponse();
  const text = data.choices[0]?.message.content ?? "";
  return { text, pieces: [text], completionTokens: data.usage?.completion_tokens ?? -1, node: response.headers.get("x-rung-node") };
}

async function answerStreamed(client: OpenAI): Promise<Answer> {
  const { data: stream, response } = await client.chat.completions
    .create({ ...GREEDY, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  const pieces: string[] = [];
  let completionTokens = -1;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content;
    if (piece) pieces.push(piece);
    if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
  }
  return { text: pieces.join(""), pieces, completionTokens, node: response.headers.get("x-rung-node") };
}
