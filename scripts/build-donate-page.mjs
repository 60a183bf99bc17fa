#!/usr/bin/env node
// Builds the donate page and the dashboard (web-node/dist), which the edge serves as static assets.
// wrangler runs this before `wrangler dev` and `wrangler deploy` ([build] in
// wrangler.toml), so every way of running the edge has what it serves. It skips
// the Vite builds when both pages are newer than every source they are built from:
// tests start an edge per file and should not rebuild an unchanged page each time.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const web = join(root, "web-node");
const built = ["donate", "dashboard"].map((page) => join(web, "dist", page, "index.html"));
const sources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "dashboard"),
  join(web, "vite.config.ts"),
  join(web, "vite.dashboard.config.ts"),
  join(web, "package.json"),
  join(root, "shared"),
];

const upToDate = built.every((page) => existsSync(page) && newestMtime(sources) <= statSync(page).mtimeMs);
if (upToDate && !process.argv.includes("--force")) process.exit(0);
const result = spawnSync("npm", ["run", "--silent", "build", "-w", "web-node"], { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);

/** The latest modification time under these paths (node_modules and tests left out). */
function newestMtime(paths) {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) newest = Math.max(newest, stat.mtimeMs);
    else
      for (const entry of readdirSync(path))
        if (entry !== "node_modules" && entry !== "test") newest = Math.max(newest, newestMtime([join(path, entry)]));
  }
  return newest;
}
