import type { RungTrace } from "@rung/shared/openai";
import { checkJsonAnswer } from "@rung/shared/routing";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptsOf, type LocalFabric, rungOf, startFabric } from "./harness/fabric.ts";
import { hello, makeLadderModels, policyOf } from "./ladder-fixtures.ts";

/**
 * The ladder's climb end to end: the edge in workerd, real rung-agent
 * processes on generated models whose confidence is set by their output
 * weights, and the official openai client. Greedy token confidence measured
 * through the edge (mean over 12-16 tokens, three prompts): rung-tiny
 * 0.07-0.11, rung-sure 0.70-0.77, rung-small 0.53-0.60. The escalation
 * threshold (0.4, on the mean, which the policy names: the shipped judge
 * scores on another scale) sits between the unsure and the sure small model;
 * rung-small is the top rung and is never judged against it.
 */
const THRESHOLD = 0.4;
/** 16 tokens: past the 8-token commit window, so a stream is judged before its end. */
const base = { messages: hello, max_tokens: 16, temperature: 0 } as const;

let tiny: string;
let small: string;
let sure: string;
beforeAll(async () => {
  ({ tiny, small, sure } = await makeLadderModels());
});

/** A request body with the `rung` field other servers ignore; the SDK passes it through. */
function withRung<T extends object>(params: T, rung: { min_confidence?: number; max_rung?: string; escalate?: boolean }): T {
  return { ...params, rung };
}

/** Streams a chat answer and returns its text, every chunk's model, the trace of the usage chunk, and the headers. */
async function streamed(client: OpenAI, params: OpenAI.ChatCompletionCreateParamsNonStreaming) {
  const { data: stream, response } = await client.chat.completions
    .create({ ...params, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  let text = "";
  const models = new Set<string>();
  let rung: RungTrace | undefined;
  for await (const chunk of stream) {
    models.add(chunk.model);
    text += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) rung = rungOf(chunk);
  }
  return { text, models: [...models], rung: rung!, headers: response.headers };
}

describe("an unsure small model climbs to the larger one", () => {
  let pool: LocalFabric;
  /** What each model answers when pinned: the reference for what the ladder may send. */
  let tinyAnswer: string;
  let smallAnswer: string;

  beforeAll(async () => {
    pool = await startFabric({
      vars: policyOf({
        escalation: { judge: { feature: "mean" }, minMeanConfidence: THRESHOLD, windowTokens: 8 },
        preRouting: { enabled: false },
      }),
      agents: [
        { name: "agent-tiny", models: [tiny] },
        { name: "agent-small", models: [small] },
      ],
    });
    const pinned = async (model: string) => (await pool.client.chat.completions.create({ ...base, model })).choices[0]!.message.content!;
    tinyAnswer = await pinned("rung-tiny");
    smallAnswer = await pinned("rung-small");
    expect(tinyAnswer).not.toBe(smallAnswer);
  });
  afterAll(() => pool?.stop());

  it("answers whole from the larger model, saying why it climbed", async () => {
    const { data, response } = await pool.client.chat.completions.create({ ...base, model: "auto" }).withResponse();
    expect(response.headers.get("x-rung-escalations")).toBe("1");
    expect(response.headers.get("x-rung-model")).toBe("rung-small");
    expect(response.headers.get("x-rung-node")).toBe("agent-small");
    expect(response.headers.get("x-rung-attempts")).toBe("2");
    const rung = rungOf(data);
    expect(rung).toMatchObject({ model: "rung-small", node: "agent-small", escalations: 1, profile: "balanced" });
    expect(attemptsOf(rung)).toEqual(["rung-tiny:agent-tiny:escalated", "rung-small:agent-small:answered"]);
    const [weak, strong] = rung.attempts;
    expect(weak!.reason).toMatch(new RegExp(`^mean confidence 0\\.\\d\\d < ${THRESHOLD}$`));
    expect(weak!.confidence!.mean).toBeLessThan(THRESHOLD);
    expect(strong!.confidence!.mean).toBeGreaterThan(weak!.confidence!.mean);
    expect(data.model).toBe("rung-small");
    expect(data.choices[0]!.message.content).toBe(smallAnswer);
  });

  it("streams only the larger model's answer: nothing of the weak one reaches the client", async () => {
    const { text, models, rung, headers } = await streamed(pool.client, { ...base, model: "auto" });
    expect(headers.get("x-rung-escalations")).toBe("1");
    expect(headers.get("x-rung-model")).toBe("rung-small");
    expect(models).toEqual(["rung-small"]);
    expect(text).toBe(smallAnswer);
    expect(attemptsOf(rung)).toEqual(["rung-tiny:agent-tiny:escalated", "rung-small:agent-small:answered"]);
    expect(rung.attempts[0]!.reason).toMatch(/^mean confidence/);
    expect(rung.attempts[0]!.confidence!.mean).toBeLessThan(THRESHOLD);
  });

  it("stays on the small rung when the request says escalate: false", async () => {
    const { data, response } = await pool.client.chat.completions
      .create(withRung({ ...base, model: "auto" }, { escalate: false }))
      .withResponse();
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    expect(response.headers.get("x-rung-model")).toBe("rung-tiny");
    expect(attemptsOf(rungOf(data))).toEqual(["rung-tiny:agent-tiny:answered"]);
    expect(data.choices[0]!.message.content).toBe(tinyAnswer);
  });

  it("does not climb when the request lowers min_confidence to 0", async () => {
    const { text, rung, headers } = await streamed(pool.client, withRung({ ...base, model: "auto" }, { min_confidence: 0 }));
    expect(headers.get("x-rung-escalations")).toBe("0");
    expect(headers.get("x-rung-model")).toBe("rung-tiny");
    expect(text).toBe(tinyAnswer);
    expect(attemptsOf(rung)).toEqual(["rung-tiny:agent-tiny:answered"]);
    // Just as weak as the answers that climbed under the policy's threshold.
    expect(rung.attempts[0]!.confidence!.mean).toBeLessThan(THRESHOLD);
  });

  it("climbs no higher than max_rung", async () => {
    const { data, response } = await pool.client.chat.completions
      .create(withRung({ ...base, model: "auto" }, { max_rung: "rung-tiny" }))
      .withResponse();
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    expect(response.headers.get("x-rung-model")).toBe("rung-tiny");
    expect(attemptsOf(rungOf(data))).toEqual(["rung-tiny:agent-tiny:answered"]);
    const unknown = pool.client.chat.completions.create(withRung({ ...base, model: "auto" }, { max_rung: "no-such-model" }));
    await expect(unknown).rejects.toMatchObject({ status: 404 });
  });

  describe("a JSON answer that fails its schema", () => {
    // The grammar keeps answers to the schema's shape and maxLength, but no grammar can
    // enforce `pattern`: only the edge's validator checks it. Greedy answers measured here:
    // rung-tiny writes {"word": "K[R"}, rung-small {"word":"MU:"}. The pattern refuses brackets.
    const word = { type: "string", maxLength: 3 };
    const schemaOf = (extra: object) => ({
      type: "object",
      properties: { word: { ...word, ...extra } },
      required: ["word"],
      additionalProperties: false,
    });
    const strict = schemaOf({ pattern: "^[^\\[\\]]*$" });
    const json = (schema: Record<string, unknown>): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
      model: "auto",
      messages: [{ role: "user", content: "Give a word" }],
      max_tokens: 24,
      temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "word", schema } },
    });
    // Confidence alone must not climb here: only the JSON check may.
    const jsonOnly = { min_confidence: 0 };

    it("climbs, whole and streamed, and the answer validates", async () => {
      const pinned = await pool.client.chat.completions.create({ ...json(strict), model: "rung-small" });
      const expected = pinned.choices[0]!.message.content!;
      expect(checkJsonAnswer(expected, { type: "json_schema", name: "word", schema: strict }).ok).toBe(true);

      const { data, response } = await pool.client.chat.completions.create(withRung(json(strict), jsonOnly)).withResponse();
      expect(response.headers.get("x-rung-escalations")).toBe("1");
      expect(response.headers.get("x-rung-model")).toBe("rung-small");
      const rung = rungOf(data);
      expect(attemptsOf(rung)).toEqual(["rung-tiny:agent-tiny:escalated", "rung-small:agent-small:answered"]);
      expect(rung.attempts[0]!.reason).toBe("#/word fails 'pattern': String does not match pattern.");
      expect(data.choices[0]!.message.content).toBe(expected);

      const stream = await streamed(pool.client, withRung(json(strict), jsonOnly));
      expect(stream.headers.get("x-rung-escalations")).toBe("1");
      expect(attemptsOf(stream.rung)).toEqual(["rung-tiny:agent-tiny:escalated", "rung-small:agent-small:answered"]);
      expect(stream.text).toBe(expected);
    });

    it("does not climb when the same answer satisfies the schema", async () => {
      const { data, response } = await pool.client.chat.completions.create(withRung(json(schemaOf({})), jsonOnly)).withResponse();
      expect(response.headers.get("x-rung-escalations")).toBe("0");
      expect(attemptsOf(rungOf(data))).toEqual(["rung-tiny:agent-tiny:answered"]);
      // The very answer the strict schema refused.
      const answer = data.choices[0]!.message.content!;
      expect(checkJsonAnswer(answer, { type: "json_schema", name: "word", schema: strict }).ok).toBe(false);
    });
  });
});

describe("a sure small model does not climb", () => {
  let pool: LocalFabric;
  beforeAll(async () => {
    pool = await startFabric({
      vars: policyOf({
        escalation: { judge: { feature: "mean" }, minMeanConfidence: THRESHOLD, windowTokens: 8 },
        preRouting: { enabled: false },
      }),
      agents: [{ name: "agent-sure", models: [sure, small] }],
    });
  });
  afterAll(() => pool?.stop());

  it("answers on the small rung, whole and streamed", async () => {
    const { data, response } = await pool.client.chat.completions.create({ ...base, model: "auto" }).withResponse();
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    expect(response.headers.get("x-rung-model")).toBe("rung-sure");
    const rung = rungOf(data);
    expect(attemptsOf(rung)).toEqual(["rung-sure:agent-sure:answered"]);
    expect(rung.attempts[0]!.confidence!.mean).toBeGreaterThanOrEqual(THRESHOLD);

    const stream = await streamed(pool.client, { ...base, model: "auto" });
    expect(stream.headers.get("x-rung-escalations")).toBe("0");
    expect(stream.models).toEqual(["rung-sure"]);
    expect(attemptsOf(stream.rung)).toEqual(["rung-sure:agent-sure:answered"]);
    expect(stream.text).toBe(data.choices[0]!.message.content);
  });
});
