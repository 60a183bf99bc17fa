#!/usr/bin/env node
// `npm test`: type-check every program, then run each test suite with its own
// runtime's config, and end with one plain summary line that CI reads:
// "N passed, N failed". Format, lint and types are checked first. Suites run one after another: these machines have 2 cores.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureChromium } from "./ensure-chromium.mjs";

const root = new URL("..", import.meta.url).pathname;
const results = join(root, ".cache", "test-results");
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  XDG_CONFIG_HOME: join(root, ".cache", "xdg"),
};

/** Each suite: a name and the vitest root whose config it uses. */
const suites = [
  { name: "shared", root: "shared" },
  { name: "native-node", root: "native-node" },
  { name: "web-node", root: "web-node" },
  { name: "edge (workerd)", root: "edge" },
  { name: "end-to-end", root: "tests" },
];

/** Suites that drive Debian's Chromium (tests/browser). */
const needsChromium = new Set(["tests"]);

const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
const broken = [];

// The edge serves the donate page from web-node/dist (wrangler.toml [assets]). wrangler builds it before it
// runs the edge, but the Workers vitest pool does not run wrangler's [build], so build it once here.
if (run("node", ["scripts/build-donate-page.mjs"]) !== 0) broken.push("web-node build");

if (only.length === 0) {
  // Format and lint first: a few seconds, and the most common way a change breaks CI.
  if (run("npm", ["run", "--silent", "lint"]) !== 0) broken.push("format or lint (npm run format fixes the format)");
  if (run("npm", ["run", "--silent", "typecheck"]) !== 0) broken.push("typecheck");
}

for (const suite of suites) {
  if (only.length > 0 && !only.some((name) => suite.root === name || suite.name === name)) continue;
  if (needsChromium.has(suite.root) && !ensureChromium()) broken.push("chromium install");
  const output = join(results, `${suite.root}.json`);
  console.log(`\n── ${suite.name} ──`);
  const code = run("npx", ["vitest", "run", "--root", suite.root, "--reporter=default", "--reporter=json", `--outputFile.json=${output}`]);
  let report;
  try {
    report = JSON.parse(readFileSync(output, "utf8"));
  } catch {
    broken.push(suite.name);
    continue;
  }
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A suite can exit non-zero with no failed test (an error outside tests, a file that fails to load).
  if (code !== 0 && report.numFailedTests === 0) broken.push(suite.name);
}

if (broken.length > 0) console.log(`\nbroken outside any test: ${broken.join(", ")}`);
console.log(`\n${passed} passed, ${failed + broken.length} failed`);
process.exit(failed + broken.length > 0 ? 1 : 0);

function run(command, args) {
  return spawnSync(command, args, { cwd: root, env, stdio: "inherit" }).status ?? 1;
}
