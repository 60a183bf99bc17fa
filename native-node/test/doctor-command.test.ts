import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { runDoctor } from "../src/cli/commands/doctor-command.ts";
import type { DoctorReport } from "../src/cli/doctor/doctor-report.ts";
import { HealthEdge } from "./helpers/health-edge.ts";

const TOKEN = "join-token";
let edge: HealthEdge;
let model: string;

beforeAll(async () => {
  model = await ensureTestModel("tiny", join(tmpdir(), "rung-native-node-models"));
  edge = await HealthEdge.start({ token: TOKEN, models: ["rung-tiny", "rung-small"] });
});
afterAll(() => edge.stop());

/** Run doctor in-process with an empty environment (no config file), keeping its stdout. */
async function doctor(...args: string[]): Promise<{ code: number; lines: string[]; text: string }> {
  let text = "";
  const code = await runDoctor(args, {}, (chunk) => {
    text += chunk;
  });
  return { code, lines: text.split("\n"), text };
}

const line = (lines: string[], prefix: RegExp) => lines.find((l) => prefix.test(l));

describe("rung-agent doctor", () => {
  it("passes every check against a reachable edge with the right token and a model that fits", async () => {
    const { code, lines } = await doctor("--edge", edge.url, "--token", TOKEN, "--model", model, "--slots", "2");
    expect(lines[0]).toBe("rung-agent doctor");
    expect(lines[1]).toMatch(/^ {2}node v\d+\.\d+\.\d+, rung-agent \d+\.\d+\.\d+, node-llama-cpp \d/);
    expect(lines[2]).toMatch(/^ {2}\d+ CPU cores, [\d.]+ [KMGT]?B free of [\d.]+ [KMGT]?B RAM$/);
    expect(line(lines, /^ok {4}gpu /)).toBeDefined();
    expect(line(lines, /model rung-tiny/)).toMatch(
      /^ok {4}model rung-tiny {2}\S+rung-tiny\.gguf: 668\.0 KB, 164\.9K parameters, F32; 2 slots of 512 tokens, ~[\d.]+ MB of the [\d.]+ [MGT]B of free RAM$/,
    );
    expect(line(lines, /edge http/)).toMatch(
      new RegExp(`^ok {4}edge http +GET ${edge.url}/health: 200 in \\d+ ms; models: rung-tiny, rung-small$`),
    );
    expect(line(lines, /edge socket/)).toMatch(
      /^ok {4}edge socket +ws:\/\/127\.0\.0\.1:\d+\/v1\/nodes\/connect: upgrade accepted \(101\)$/,
    );
    expect(line(lines, /clock/)).toMatch(/^ok {4}clock +(in step with the edge \(within 1 s\)|1 s (behind|ahead of) the edge's clock)$/);
    expect(lines.at(-2)).toBe("All 5 checks passed.");
    expect(code).toBe(0);
    // The socket was opened and closed before any hello: the edge saw no frame.
    expect(edge.upgrades).toBeGreaterThan(0);
    expect(edge.frames).toEqual([]);
  });

  it("plans with the same --memory-limit as start", async () => {
    const { code, lines } = await doctor("--edge", edge.url, "--token", TOKEN, "--model", model, "--memory-limit", "1M");
    expect(line(lines, /model rung-tiny/)).toMatch(/^FAIL {2}model rung-tiny .*but only 1\.0 MB of the 1\.0 MB memory limit is left/);
    expect(code).toBe(1);
  });

  it("reports a refused token with the edge's reason and a fix", async () => {
    const { code, lines } = await doctor("--edge", edge.url, "--token", "wrong", "--model", model);
    const index = lines.findIndex((l) => l.includes("edge socket"));
    expect(lines[index]).toMatch(
      /^FAIL {2}edge socket +ws:\/\/\S+: refused with 401: Invalid node token\. Start the node with its join token \(RUNG_TOKEN, or --token <join token>\)\.$/,
    );
    expect(lines[index + 1]).toMatch(/^ +fix: this token is not the edge's join token/);
    expect(line(lines, /edge http/)).toMatch(/^ok /);
    expect(lines.at(-2)).toBe("1 of 5 checks failed.");
    expect(code).toBe(1);
  });

  it("opens the socket in the pool start would join, and says a token may belong to another pool", async () => {
    const { lines } = await doctor("--edge", edge.url, "--token", TOKEN, "--pool", "lab");
    expect(line(lines, /edge socket/)).toMatch(
      /^ok {4}edge socket +ws:\/\/127\.0\.0\.1:\d+\/v1\/nodes\/connect\?pool=lab: upgrade accepted \(101\)$/,
    );
    const refused = await doctor("--edge", edge.url, "--token", "wrong", "--pool", "lab");
    expect(line(refused.lines, /fix: this token/)).toMatch(/another pool than lab: leave --pool out to join the token's pool$/);
  });

  it("says how to give a token the edge wants but none was set", async () => {
    const { lines } = await doctor("--edge", edge.url, "--model", model);
    expect(line(lines, /fix: the edge wants a join token/)).toMatch(/--token, RUNG_TOKEN or "token" in the config file$/);
  });

  it("reports an unreachable edge", async () => {
    const gone = await HealthEdge.start({ token: TOKEN, models: [] });
    const url = gone.url;
    await gone.stop();
    const { code, lines } = await doctor("--edge", url, "--token", TOKEN, "--model", model);
    expect(line(lines, /edge http/)).toMatch(
      new RegExp(`^FAIL {2}edge http +GET ${url}/health failed: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`),
    );
    expect(line(lines, /edge socket/)).toMatch(/^FAIL {2}edge socket +ws:\/\/\S+: connect ECONNREFUSED/);
    expect(line(lines, /clock/)).toBeUndefined();
    expect(code).toBe(1);
  });

  it("reports a missing model file, and no edge or model at all", async () => {
    const missing = join(tmpdir(), "rung-no-such-model.gguf");
    const { code, lines } = await doctor("--edge", edge.url, "--token", TOKEN, "--model", model, "--model", missing);
    const index = lines.findIndex((l) => l.includes("model rung-no-such-model"));
    expect(lines[index]).toBe(`FAIL  model rung-no-such-model  ${missing} does not exist`);
    expect(lines[index + 1]).toMatch(/fix: fix the path, or download a model with: rung-agent models pull hf:/);
    expect(code).toBe(1);

    const bare = await doctor();
    expect(line(bare.lines, /^FAIL {2}models/)).toMatch(/no model configured$/);
    expect(line(bare.lines, /^FAIL {2}edge/)).toMatch(/no edge configured$/);
  });

  it("flags clock skew past 30 s", async () => {
    const skewed = await HealthEdge.start({ token: TOKEN, models: [], clockOffsetMs: 120_000 });
    try {
      const { lines } = await doctor("--edge", skewed.url, "--token", TOKEN, "--model", model);
      const index = lines.findIndex((l) => l.includes("clock"));
      expect(lines[index]).toMatch(/^FAIL {2}clock +1(19|20|21)(\.\d)? s behind the edge's clock$/);
      expect(lines[index + 1]).toMatch(/fix: turn on time sync/);
    } finally {
      await skewed.stop();
    }
  });

  it("prints the same report as JSON with --json", async () => {
    const { code, text } = await doctor("--json", "--edge", edge.url, "--token", "wrong", "--model", model);
    const report = JSON.parse(text) as DoctorReport;
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.edge).toMatchObject({ health: { status: 200, models: ["rung-tiny", "rung-small"] }, connect: { status: 401 } });
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ["gpu", true],
      ["model rung-tiny", true],
      ["edge http", true],
      ["clock", true],
      ["edge socket", false],
    ]);
  });

  it("prints its help", async () => {
    const { code, text } = await doctor("--help");
    expect(code).toBe(0);
    expect(text).toMatch(/^Usage: rung-agent doctor \[--json\]/);
    expect(text).toContain("--log-format");
  });
});
