// The browser tests drive Debian's Chromium (DESIGN.md: never Playwright's own
// download). A fresh machine has none, so `npm test` installs it with apt when
// it can (as root), and otherwise says how; the browser suite then fails
// rather than skips, so a green run always means the page was tested.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.RUNG_CHROMIUM ?? "/usr/bin/chromium";

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root || !existsSync("/usr/bin/apt-get")) {
    console.error(`Chromium is missing at ${CHROMIUM}: install Debian's package (sudo apt-get install chromium) or set RUNG_CHROMIUM.`);
    return false;
  }
  console.log("Installing Debian's chromium for the browser tests (once per machine)…");
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  // A fresh image may have no package lists yet.
  if (!install()) spawnSync("apt-get", ["update"], { stdio: "inherit" });
  return existsSync(CHROMIUM) || (install() && existsSync(CHROMIUM));
}
