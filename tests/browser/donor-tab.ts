import type { Browser, BrowserContext, Page } from "playwright-core";

export interface DonorFigures {
  jobsServed: number;
  tokens: number;
  currentJob: string;
}

/**
 * One browser tab on the edge's donate page, driven as a volunteer would:
 * read the page, pick a model, consent, start, pause, stop.
 */
export class DonorTab {
  /** Console errors and page errors, for failure messages. */
  readonly log: string[] = [];

  private constructor(readonly page: Page) {
    page.on("console", (message) => message.type() === "error" && this.log.push(`console: ${message.text()}`));
    page.on("pageerror", (error) => this.log.push(`page error: ${error.message}`));
  }

  /** `query` is the page's own (e.g. `?threads=2`). */
  static async open(browser: Browser | BrowserContext, edgeUrl: string, query = ""): Promise<DonorTab> {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 900, height: 1100 });
    const tab = new DonorTab(page);
    // The edge serves the page under a strict Content-Security-Policy; anything it blocks is a bug in the page or the policy.
    await page.addInitScript(() =>
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`),
      ),
    );
    await page.goto(`${edgeUrl}/donate${query}`);
    // The model list fills once the page has read the pool's settings and surveyed the device.
    await page.waitForSelector("#model-select:not([disabled])", { timeout: 30_000 });
    return tab;
  }

  async startDonating(modelId: string, timeoutMs = 60_000): Promise<void> {
    const value = await this.page.$$eval(
      "#model-select option",
      (options, id) => options.find((option) => option.textContent?.startsWith(`${id} `))?.getAttribute("value"),
      modelId,
    );
    if (value === undefined || value === null) throw new Error(`the page does not offer ${modelId}`);
    await this.page.selectOption("#model-select", value);
    await this.page.check("#agree");
    await this.page.click("#start");
    await this.waitForStatus(/^Serving /, timeoutMs);
  }

  async waitForStatus(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    try {
      await this.page.waitForFunction(
        ({ source, flags }) => new RegExp(source, flags).test(document.getElementById("status")?.textContent ?? ""),
        { source: pattern.source, flags: pattern.flags },
        { timeout: timeoutMs },
      );
    } catch (error) {
      throw new Error(
        `status never matched ${pattern}: "${await this.text("#status")}"; notices: ${await this.text("#notice-list")}; ${this.log.join("\n")}`,
        { cause: error },
      );
    }
  }

  async figures(): Promise<DonorFigures> {
    return {
      jobsServed: Number(await this.text("#jobs-served")),
      tokens: Number(await this.text("#tokens")),
      currentJob: await this.text("#current-job"),
    };
  }

  text(selector: string): Promise<string> {
    return this.page.$eval(selector, (element) => element.textContent ?? "");
  }

  close(): Promise<void> {
    return this.page.close();
  }
}
