import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`); Playwright's own browser downloads are never used. */
export const CHROMIUM_PATH = process.env.RUNG_CHROMIUM ?? "/usr/bin/chromium";

/** Flags that keep the browser off any network but loopback (DESIGN.md). */
const OFFLINE_FLAGS = [
  "--no-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: OFFLINE_FLAGS });
}
