import { describe, expect, it } from "vitest";
import { chunkSchema, doneSchema } from "../../protocol/messages.ts";
import { parseNodeFrame, plainChunk, plainDone } from "../../protocol/parse-node-frame.ts";
import { seededRandom } from "../../routing/seeded-random.ts";

/** Values each field of a candidate chunk may take: valid ones, and each way a node could get it wrong. */
const choices: Record<string, readonly unknown[]> = {
  type: ["chunk", "chunk", "chunk", "done", "Chunk", 1],
  jobId: ["j1", "job_abc-123", "~".repeat(128), "", "with space", "x".repeat(129), "é", 7, null],
  seq: [0, 1, 41, 2 ** 53 - 1, 2 ** 53, -1, 1.5, "3", null, 1e300],
  text: ["tok ", "", "ünï \n", 3, null, ["a"]],
  confidence: [0, 1, 0.42, null, -0.01, 1.01, "0.5", true],
  confidences: [[0.5], [null, 0.9, 1], Array(256).fill(0.5), Array(257).fill(0.5), [], [0.5, 2], [-1], "0.5", null, { 0: 0.5 }],
  // Valid lists come in the lengths of the valid confidences above (1 and 3 tokens, 256), so lengths match often and mismatch often.
  margins: [[0.2], [0, null, 1], Array(256).fill(0.1), [null, 0.5, 0.3], [0.5, 0.1], [], [1.5], [-0.1], [Number.NaN], "0.2", null],
  entropies: [
    [1.5],
    [0, null, 64],
    Array(256).fill(3),
    [null, 2, 0.1],
    [64.01],
    [-1],
    [],
    [3, 4],
    [Number.POSITIVE_INFINITY],
    { 0: 1 },
    null,
  ],
  extra: ["ignored", { nested: true }],
};

const OPTIONAL = new Set(["confidences", "margins", "entropies", "extra"]);

/** A candidate frame: each field present or absent, usually its first (valid) value, else any of its choices. */
function candidate(random: () => number): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  for (const [field, values] of Object.entries(choices)) {
    const optional = OPTIONAL.has(field);
    if (random() < (optional ? 0.5 : 0.06)) continue;
    frame[field] = random() < 0.8 ? values[0] : values[Math.floor(random() * values.length)];
  }
  return frame;
}

/** The same for `done` frames. */
const doneChoices: Record<string, readonly unknown[]> = {
  type: ["done", "done", "chunk"],
  jobId: ["j1", "", "with space", 7],
  chunks: [8, 0, -1, 1.5, 2 ** 53, "8"],
  finishReason: ["stop", "length", "tool_calls", "halt", null],
  usage: [
    { promptTokens: 5, completionTokens: 8 },
    { promptTokens: -1, completionTokens: 8 },
    { promptTokens: 5 },
    null,
    { promptTokens: 5, completionTokens: 8, extra: 1 },
  ],
  toolCalls: [[{ id: "c", name: "f", arguments: "{}" }], [], "x"],
  extra: ["ignored"],
};

function drawFrame(
  random: () => number,
  choices: Record<string, readonly unknown[]>,
  optional: readonly string[],
): Record<string, unknown> {
  const frame: Record<string, unknown> = {};
  for (const [field, values] of Object.entries(choices)) {
    if (random() < (optional.includes(field) ? 0.6 : 0.06)) continue;
    frame[field] = random() < 0.8 ? values[0] : values[Math.floor(random() * values.length)];
  }
  return frame;
}

describe("parseNodeFrame's quick path for done", () => {
  it("accepts only what doneSchema accepts, and returns what it returns", () => {
    const random = seededRandom(99);
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const frame = drawFrame(random, doneChoices, ["toolCalls", "extra"]);
      const quick = plainDone(frame);
      const schema = doneSchema.safeParse(frame);
      if (quick === undefined) continue;
      accepted += 1;
      expect(schema.success, JSON.stringify(frame)).toBe(true);
      expect(quick).toStrictEqual(schema.data);
    }
    expect(accepted).toBeGreaterThan(1_000);
  });
});

describe("parseNodeFrame's quick path for chunks", () => {
  it("accepts exactly the chunks chunkSchema accepts, and returns what it returns", () => {
    const random = seededRandom(20261202);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = candidate(random);
      const quick = plainChunk(frame);
      const schema = chunkSchema.safeParse(frame);
      expect(quick !== undefined, JSON.stringify(frame)).toBe(schema.success);
      if (quick) expect(quick).toStrictEqual(schema.data);
      if (quick) accepted += 1;
    }
    // The draw reaches both sides often, so the agreement above is not vacuous.
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });

  it("takes chunks with margins and entropies (1.7) on the quick path, as many as the frame's tokens", () => {
    const random = seededRandom(17);
    let withSignals = 0;
    let refusedForLength = 0;
    for (let i = 0; i < 20_000; i++) {
      const frame = candidate(random);
      if (frame.margins === undefined && frame.entropies === undefined) continue;
      const quick = plainChunk(frame);
      if (quick?.margins || quick?.entropies) withSignals += 1;
      const lists = [frame.margins, frame.entropies].filter(Array.isArray);
      const tokens = Array.isArray(frame.confidences) ? frame.confidences.length : 1;
      if (!quick && chunkSchema.safeParse(frame).error?.issues.some((issue) => issue.message.startsWith("must list")))
        refusedForLength += 1;
      if (quick) for (const list of lists) expect(list).toHaveLength(tokens);
    }
    expect(withSignals).toBeGreaterThan(1_000);
    expect(refusedForLength).toBeGreaterThan(100);
  });

  it("leaves every other frame, and the wording of every error, to the schema", () => {
    expect(parseNodeFrame(JSON.stringify({ type: "draining" }))).toEqual({ ok: true, value: { type: "draining" } });
    const bad = parseNodeFrame(JSON.stringify({ type: "chunk", jobId: "j", seq: -1, text: "", confidence: null }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/^invalid frame at seq: /);
    expect(parseNodeFrame("[]").ok).toBe(false);
    expect(parseNodeFrame("null").ok).toBe(false);
  });
});
