import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric } from "../e2e/harness/fabric.ts";
import { repoRoot } from "../e2e/harness/paths.ts";
import { makeLadderModels } from "../e2e/ladder-fixtures.ts";
import { launchChromium } from "./chromium.ts";

const ADMIN_KEY = "admin-key-for-dashboard-tests";
const AGENT = "dashboard-agent";
/** The unsure rung below it (rung-tiny's mean confidence is about 0.1, rung-small's about 0.55: ladder-escalation.test.ts). */
const UNSURE_AGENT = "unsure-agent";
const POLICY = { escalation: { judge: { feature: "mean" }, minMeanConfidence: 0.4, windowTokens: 8 }, preRouting: { enabled: false } };
const PROMPT = "a prompt the dashboard must never show 4b7e";
/** Where the screenshots go: the test results, or the docs' own with `RUNG_DASHBOARD_SCREENSHOTS=docs/images`. */
const SCREENSHOTS = resolve(repoRoot, process.env.RUNG_DASHBOARD_SCREENSHOTS ?? join(".cache", "test-results"));

/**
 * The operator's dashboard in Chromium, on a local edge with one real agent:
 * `/dashboard#key=…` connects, shows the agent by name, and shows a request
 * the moment it is served, with its trace; a wrong key is refused in words;
 * the playground sends a prompt to `auto` on two rungs, the small one unsure,
 * and draws the climb; keys are listed with their usage. It writes the screenshots docs/dashboard.md shows (to .cache/test-results, or
 * where RUNG_DASHBOARD_SCREENSHOTS says), and
 * prints the page's bytes, time to first render and the size of the feed's frames.
 */
describe("the dashboard", () => {
  let fabric: LocalFabric;
  let browser: Browser;

  beforeAll(async () => {
    const { tiny, small } = await makeLadderModels();
    fabric = await startFabric({
      vars: { RUNG_ADMIN_KEY: ADMIN_KEY, RUNG_POLICY: JSON.stringify(POLICY) },
      agents: [
        { name: UNSURE_AGENT, models: [tiny] },
        { name: AGENT, models: [small] },
      ],
    });
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await fabric?.stop();
  });

  /** A page that records its console errors, failed requests and CSP violations. */
  async function open(url: string, options: { width?: number; height?: number; colorScheme?: "light" | "dark" } = {}) {
    const page = await browser.newPage({
      viewport: { width: options.width ?? 1100, height: options.height ?? 900 },
      colorScheme: options.colorScheme ?? "light",
    });
    const problems: string[] = [];
    const frames: string[] = [];
    page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("response", (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`));
    page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => frames.push(String(payload))));
    await page.goto(url);
    return { page, problems, frames };
  }

  const textOf = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? "";

  it("refuses a wrong key in words", async () => {
    const { page, problems } = await open(`${fabric.url}/dashboard/#key=not-the-key`);
    await page.locator("#refusal").filter({ hasText: "Incorrect admin key" }).waitFor();
    expect(await textOf(page, "#connection")).toBe("Not connected");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the connected agent and, live, a request just served, with its trace", async () => {
    const { page, problems, frames } = await open(`${fabric.url}/dashboard#key=${ADMIN_KEY}`);
    await page.locator("#connection").filter({ hasText: "Live" }).waitFor();
    await page.locator(`#nodes tr[data-node="${AGENT}"]`).waitFor();
    expect(await textOf(page, `#nodes tr[data-node="${AGENT}"]`)).toContain("rung-small");
    // The page's own files (the HTML, its script and style), not the admin API's answers it reads after.
    const { firstPaint, bytes } = await page.evaluate(() => {
      const files = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].filter((entry) =>
        new URL(entry.name).pathname.startsWith("/dashboard"),
      ) as PerformanceResourceTiming[];
      return {
        firstPaint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
        bytes: files.reduce((sum, entry) => sum + entry.decodedBodySize, 0),
      };
    });

    const answer = await fabric.client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: PROMPT }],
      max_tokens: 16,
      temperature: 0,
    });
    const item = page.locator("#requests button").filter({ hasText: "rung-small" }).first();
    await item.waitFor();
    await item.click();
    const trace = await textOf(page, "#trace");
    expect(trace).toMatch(new RegExp(`rung-tiny on ${UNSURE_AGENT}.*escalated.*rung-small on ${AGENT}.*answered`));
    expect(await textOf(page, "#traffic-summary")).toContain("rung-small");
    expect(await page.locator(".charts figure canvas").count()).toBe(5);

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({
      path: join(SCREENSHOTS, "dashboard.png"),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1100, height: 1250 },
    });
    const requestFrame = frames.find((frame) => frame.startsWith('{"type":"request"'));
    console.log(
      `dashboard: ${bytes} bytes loaded, first contentful paint ${Math.round(firstPaint)} ms, ` +
        `snapshot frame ${frames[0]?.length} bytes, request frame ${requestFrame?.length} bytes`,
    );
    const answerText = answer.choices[0]?.message.content ?? "";
    for (const frame of frames) {
      expect(frame).not.toContain("4b7e");
      if (answerText.trim().length > 3) expect(frame).not.toContain(answerText);
    }
    expect(await textOf(page, "body")).not.toContain("4b7e");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("sends a prompt from the playground and draws the ladder it climbed", async () => {
    const { page, problems } = await open(`${fabric.url}/dashboard#key=${ADMIN_KEY}`);
    await page.locator(`#nodes tr[data-node="${UNSURE_AGENT}"]`).waitFor();
    await page.fill("#playground-prompt", "Hello there");
    await page.selectOption("#playground-model", "auto");
    await page.fill("#playground-max-tokens", "16");
    await page.click("#playground-form button[type=submit]");
    await page.locator("#playground-outcome").filter({ hasText: "Answered by rung-small" }).waitFor();
    expect(await textOf(page, "#playground-answer")).not.toBe("");
    const steps = page.locator("#playground-ladder svg .step");
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).getAttribute("class")).toBe("step escalated");
    expect(await steps.nth(1).getAttribute("class")).toBe("step answered");
    expect(await page.locator("#playground-ladder svg").textContent()).toContain(UNSURE_AGENT);
    // Why it climbed, in figures on the picture itself: the unsure rung's confidence under the bar.
    expect(await steps.nth(0).textContent()).toMatch(/mean confidence 0\.\d\d < bar 0\.4/);
    expect(await textOf(page, "#playground-ladder ol")).toMatch(/escalated \(mean confidence 0\.\d+ < 0\.4\)/);
    await page
      .locator("#playground-title")
      .locator("..")
      .screenshot({ path: join(SCREENSHOTS, "playground.png") });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("lists the keys with their usage this month and how close each is to its budget", async () => {
    const made = await fetch(`${fabric.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ name: "dashboard-key", monthlyTokens: 100_000, rpm: 60 }),
    });
    const { id, key } = (await made.json()) as { id: string; key: string };
    const answered = await fetch(`${fabric.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "rung-small", messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
    });
    expect(answered.status).toBe(200);
    const { page, problems } = await open(`${fabric.url}/dashboard#key=${ADMIN_KEY}`);
    const row = page.locator(`#keys tr[data-key="${id}"]`);
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toContain("dashboard-key");
    expect(cells[1]).toBe("1");
    expect(cells[4]).toBe("60 req/min");
    expect(cells[5]).toMatch(/^0% of 100,000$/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("fits a phone and reads in dark mode", async () => {
    const { page, problems } = await open(`${fabric.url}/dashboard#key=${ADMIN_KEY}`, { width: 390, height: 844, colorScheme: "dark" });
    await page.locator(`#nodes tr[data-node="${AGENT}"]`).waitFor();
    const { overflow, ink } = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      ink: getComputedStyle(document.body).color,
    }));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-phone-dark.png") });
    // Light text on the dark canvas the color-scheme gives.
    const [red = 0] = (ink.match(/\d+/g) ?? []).map(Number);
    expect(red).toBeGreaterThan(200);
    expect(problems).toEqual([]);
    await page.close();
  });
});
