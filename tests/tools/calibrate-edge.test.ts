/**
 * `npm run calibrate -- … --edge`: the chosen bar (or, with `--per-model`, bars per model) put
 * into the real local edge (workerd, as `wrangler dev` runs it) through its admin API, the rest of
 * the policy kept; a refused admin key and a sample scored by another judge than the edge's are
 * refused in words.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIo, main } from "../../tools/calibrate/cli.ts";
import { type LocalEdge, startLocalEdge } from "../e2e/harness/local-edge.ts";

const ADMIN_KEY = "calibrate-test-admin-key";

/** Two rungs: the small one answered 0.95, 0.9, 0.8 and passed up 0.4; 75% below the top holds up to 0.80. */
function sample(judge = "logistic score"): string {
  const confidence = (score: number) => ({ mean: score, min: score, judge, score, bar: 0.5 });
  const small = [0.95, 0.9, 0.8].map((s) => ({
    model: "small",
    node: "n",
    escalations: 0,
    profile: "balanced",
    attempts: [{ model: "small", node: "n", outcome: "answered", ms: 5, confidence: confidence(s) }],
  }));
  const climbed = {
    model: "large",
    node: "n",
    escalations: 1,
    profile: "balanced",
    attempts: [
      { model: "small", node: "n", outcome: "escalated", ms: 5, confidence: confidence(0.4) },
      { model: "large", node: "n", outcome: "answered", ms: 9, confidence: confidence(0.9) },
    ],
  };
  return [...small, climbed].map((t) => JSON.stringify(t)).join("\n");
}

/**
 * Labelled, rung-m → rung-l: rung-m is right at 0.95 and 0.9 and wrong at 0.6, rung-l always right;
 * keeping all of rung-l's accuracy at the least compute takes rung-m's bar just above 0.6: 0.61.
 */
function labelled(): string {
  return [
    [0.95, true],
    [0.9, true],
    [0.6, false],
  ]
    .map(([score, correct]) =>
      JSON.stringify({
        rungs: [
          { model: "rung-m", score, correct },
          { model: "rung-l", score: 0.99, correct: true },
        ],
      }),
    )
    .join("\n");
}

function io(stdin: string): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), readStdin: async () => stdin, env: {} };
}

describe("npm run calibrate --edge", () => {
  let edge: LocalEdge;
  const admin = (init: RequestInit = {}) =>
    fetch(`${edge.url}/admin/policy`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" } });

  beforeAll(async () => {
    edge = await startLocalEdge({ RUNG_ADMIN_KEY: ADMIN_KEY });
    const put = await admin({
      method: "PUT",
      body: JSON.stringify({ hedge: { afterMs: 1500 }, escalation: { windowTokens: 8, bars: { "rung-s": 0.7 } } }),
    });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await edge?.dispose();
  });

  it("sets escalation.minMeanConfidence and keeps the rest of the policy", async () => {
    const run = io(sample());
    const status = await main(["-", "--below-top", "0.75", "--edge", edge.url], { ...run, env: { RUNG_ADMIN_KEY: ADMIN_KEY } });
    expect(run.errors).toEqual([]);
    expect(status).toBe(0);
    expect(run.lines).toContain(`applied to ${edge.url}; the edge answered:`);
    const policy = (await (await admin()).json()) as { escalation: Record<string, unknown>; hedge: Record<string, unknown> };
    expect(policy.escalation.minMeanConfidence).toBe(0.8);
    expect(policy.escalation.windowTokens).toBe(8);
    expect(policy.escalation.bars).toEqual({ "rung-s": 0.7 });
    expect(policy.hedge.afterMs).toBe(1500);
    // A model's own bar still beats the shared one: the operator is told.
    expect(run.lines).toContain(`note: escalation.bars["rung-s"] (0.7) overrides the bar for rung-s's answers`);
  });

  it("says the admin key was refused, and changes nothing", async () => {
    const run = io(sample());
    expect(await main(["-", "--below-top", "0.5", "--edge", edge.url, "--admin-key", "wrong"], run)).toBe(1);
    expect(run.errors.at(-1)).toMatch(/^calibrate: the admin key was refused \(401\)/);
    expect(((await (await admin()).json()) as { escalation: Record<string, unknown> }).escalation.minMeanConfidence).toBe(0.8);
  });

  it("refuses a bar from a sample scored by another judge than the edge's", async () => {
    const run = io(sample("lowest confidence"));
    expect(await main(["-", "--below-top", "0.5", "--edge", edge.url, "--admin-key", ADMIN_KEY], run)).toBe(1);
    expect(run.errors.at(-1)).toMatch(/the edge judges by logistic score but the sample was scored by lowest confidence/);
  });

  it("--per-model sets the calibrated models' escalation.bars, keeps other models' bars, and leaves minMeanConfidence", async () => {
    const before = (await (await admin()).json()) as { escalation: Record<string, unknown> };
    const put = await admin({
      method: "PUT",
      body: JSON.stringify({
        ...before,
        escalation: { ...before.escalation, bars: { "rung-s": 0.7, "rung-m": 0.5 } },
        profiles: { quality: { minMeanConfidence: 0.99 } },
      }),
    });
    expect(put.status).toBe(200);
    const run = io(labelled());
    const status = await main(["-", "--accuracy", "1", "--per-model", "--edge", edge.url, "--admin-key", ADMIN_KEY], run);
    expect(run.errors).toEqual([]);
    expect(status).toBe(0);
    const policy = (await (await admin()).json()) as { escalation: Record<string, unknown> };
    expect(policy.escalation.bars).toEqual({ "rung-s": 0.7, "rung-m": 0.61 });
    expect(policy.escalation.minMeanConfidence).toBe(before.escalation.minMeanConfidence);
    // A profile's own bar holds for every model, so it beats the bars per model too.
    expect(run.lines).toContain(
      "note: profiles.quality.minMeanConfidence (0.99) overrides the bars per model (a profile's bar holds for every model) for auto:quality's requests",
    );
  });
});
