import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Hello, helloSchema } from "@rung/shared/protocol";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { type ModelFileServer, startModelFileServer } from "../../tools/gguf/model-file-server.ts";
import { edgeStatus, putPolicy } from "../e2e/harness/edge-admin.ts";
import { type LocalFabric, startFabric } from "../e2e/harness/fabric.ts";
import { launchChromium } from "./chromium.ts";
import { DonorTab } from "./donor-tab.ts";

const MODEL = "rung-small";
const ADMIN_KEY = "admin-key-for-model-hash-tests";
/** A hash no generated model has: the pool's policy naming a file other than the one at the URL. */
const OTHER_FILE = "0".repeat(64);

/**
 * The pool's policy names the tab's model file by its SHA-256. A tab in
 * Chromium hashes the file as it downloads it, announces the hash in hello
 * (from the cache too, on a reload that downloads nothing), and serves nothing
 * when the file is not the one the policy names; the edge refuses a tab that
 * still announces the old file after the operator changed it.
 */
describe("model file hashes on the donate page", () => {
  let dir: string;
  let files: ModelFileServer;
  let fabric: LocalFabric;
  let browser: Browser;
  let tab: DonorTab;
  let fileSha256: string;
  const hellos: Hello[] = [];

  const policyNaming = (sha256: string) => ({
    donate: { ggufModels: [{ id: MODEL, url: `${files.url}/${MODEL}.gguf`, sha256 }] },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rung-model-hash-"));
    const path = await ensureTestModel("small", dir);
    fileSha256 = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
    files = await startModelFileServer(dir);
    fabric = await startFabric({ vars: { RUNG_ADMIN_KEY: ADMIN_KEY, RUNG_POLICY: JSON.stringify(policyNaming(fileSha256)) } });
    browser = await launchChromium();
    tab = await DonorTab.open(browser, fabric.url);
    // The link runs on the page, so its frames are the page's: every hello the tab sends, as sent.
    tab.page.on("websocket", (socket) =>
      socket.on("framesent", ({ payload }) => {
        const hello = helloSchema.safeParse(JSON.parse(String(payload)));
        if (hello.success) hellos.push(hello.data);
      }),
    );
  });

  afterAll(async () => {
    await browser?.close();
    await fabric?.stop();
    await files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("joins with the policy's file and announces its sha256, downloaded and then from the cache", async () => {
    await tab.startDonating(MODEL);
    expect(hellos.map((hello) => hello.models.map((m) => m.sha256))).toEqual([[fileSha256]]);
    expect(await nodesServing()).toHaveLength(1);

    await tab.page.reload();
    await tab.page.waitForSelector("#model-select:not([disabled])");
    await tab.startDonating(MODEL);
    expect(files.downloads.get(`${MODEL}.gguf`)).toBe(1);
    expect(hellos.at(-1)?.models.map((m) => m.sha256)).toEqual([fileSha256]);
  });

  it("is refused by the edge once the policy names another file, and says so", async () => {
    await tab.page.click("#pause");
    await tab.waitForStatus(/^Paused/);
    await putPolicy(fabric.url, ADMIN_KEY, policyNaming(OTHER_FILE));
    // Resuming joins again with the same loaded model, so the tab announces the old file.
    await tab.page.click("#resume");
    await tab.waitForStatus(/^Stopped/);
    expect(await tab.text("#notice-list")).toContain(
      `The pool refused this tab: This pool's policy names another file for ${MODEL}: its SHA-256 is ${OTHER_FILE}, this tab announced ${fileSha256}.`,
    );
    expect(await nodesServing()).toEqual([]);
  });

  it("does not serve a download whose hash is not the policy's, and tells the donor why", async () => {
    await tab.page.reload();
    await tab.page.waitForSelector("#model-select:not([disabled])");
    const joinedBefore = hellos.length;
    await tab.page.selectOption("#model-select", "0");
    await tab.page.check("#agree");
    await tab.page.click("#start");
    await tab.waitForStatus(/^Stopped: The file downloaded for rung-small is not the one this pool names/);
    // The cached copy did not match the policy, so the tab fetched the file again before refusing it.
    expect(files.downloads.get(`${MODEL}.gguf`)).toBe(2);
    expect(await tab.text("#notice-list")).toContain(
      `(its SHA-256 is ${fileSha256}, the pool's policy says ${OTHER_FILE}), so this tab will not serve it. ` +
        "No other model can run in this tab, so it has stopped.",
    );
    expect(hellos.length).toBe(joinedBefore);
    expect(await nodesServing()).toEqual([]);
    expect(tab.log.filter((line) => line.includes("CSP violation"))).toEqual([]);
  });

  async function nodesServing(): Promise<unknown[]> {
    return (await edgeStatus(fabric.url)).catalog.find((entry) => entry.id === MODEL)?.nodes ?? [];
  }
});
