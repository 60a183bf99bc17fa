import type { RungTrace } from "@rung/shared/openai";
import { checkJsonAnswer } from "@rung/shared/routing";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptsOf, breakerOf, type LocalFabric, rungOf, startFabric, testModel } from "./harness/fabric.ts";

/**
 * The ladder end to end: the edge in workerd, real rung-agent processes on
 * generated models whose confidence is set by their output weights, and the
 * official openai client. Greedy token confidence measured through the edge
 * (mean over 12-16 tokens, three prompts): rung-tiny 0.07-0.11, rung-sure
 * 0.70-0.77, rung-small 0.53-0.60. The escalation threshold (0.4) sits
 * between the unsure and the sure small model; rung-small is the top rung and
 * is never judged against it.
 */
const THRESHOLD = 0.4;
const hello = [{ role: "user" as const, content: "Hello there" }];
/** 16 tokens: past the 8-token commit window, so a stream is judged before its end. */
const base = { messages: hello, max_tokens: 16, temperature: 0 } as const;
const policyOf = (policy: object) => ({ RUNG_POLICY: JSON.stringify(policy) });
/** Vars for a pool whose node choice must repeat from run to run: the router's random draws are seeded. */
const seeded = { RUNG_RANDOM_SEED: "1" };

let tiny: string;
let small: string;
let sure: string;
beforeAll(async () => {
  [tiny, small, sure] = await Promise.all([testModel("tiny"), testModel("small"), testModel("sure")]);
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
      vars: policyOf({ escalation: { minMeanConfidence: THRESHOLD, windowTokens: 8 }, preRouting: { enabled: false } }),
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
      vars: policyOf({ escalation: { minMeanConfidence: THRESHOLD, windowTokens: 8 }, preRouting: { enabled: false } }),
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

interface Answered {
  rung: RungTrace;
  node: string | null;
  ms: number;
}

/** Sends `count` requests at once, timing each one. */
function burst(pool: LocalFabric, count: number, params: OpenAI.ChatCompletionCreateParamsNonStreaming): Promise<Answered[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      const { data, response } = await pool.client.chat.completions.create(params).withResponse();
      return { rung: rungOf(data), node: response.headers.get("x-rung-node"), ms: performance.now() - started };
    }),
  );
}

const tinyRequest = { model: "rung-tiny", messages: hello, max_tokens: 8, temperature: 0 } as const;

describe("hedging", () => {
  const SLOW_MS = 3000;
  const HEDGE_MS = 300;
  let pool: LocalFabric;
  beforeAll(async () => {
    // One slot on the fast agent, eight on the slow one: the router sends a request to an idle pool's
    // slow agent (an eighth full with it) rather than the fast one (full with it), whatever speeds the
    // two measured at start, and the hedge finds the fast agent's slot free, since nothing else runs.
    pool = await startFabric({
      vars: { ...seeded, ...policyOf({ hedge: { afterMs: HEDGE_MS }, escalation: { enabled: false } }) },
      agents: [
        { name: "agent-fast", models: [tiny], extraArgs: ["--slots", "1"] },
        { name: "agent-slow", models: [tiny], extraArgs: ["--slots", "8", "--fault-first-token-delay-ms", String(SLOW_MS)] },
      ],
    });
  });
  afterAll(() => pool?.stop());

  it("hedges a late first token on the other node, which wins", async () => {
    const [{ rung, node, ms }] = (await burst(pool, 1, tinyRequest)) as [Answered];
    expect(attemptsOf(rung)).toEqual(["rung-tiny:agent-slow:hedge_lost", "rung-tiny:agent-fast:answered"]);
    expect(rung.attempts[0]!.reason).toBe("agent-fast answered first");
    // The slow attempt ran until the hedge answered, which started only after the hedge delay.
    expect(rung.attempts[0]!.ms).toBeGreaterThanOrEqual(HEDGE_MS);
    expect(node).toBe("agent-fast");
    expect(ms).toBeLessThan(SLOW_MS / 2);
  });
});

describe("circuit breaker", () => {
  const ADMIN_KEY = "admin-key-for-tests";
  /** Longer than any run of this test, so no busy machine outruns it; the test shortens it to let a probe go. */
  const OPEN_MS = 600_000;
  // Retries: a request whose only free node is the flaky one goes back to it after a backoff,
  // and may meet all three faults itself.
  const policyWith = (openMs: number) => ({
    breaker: { failureThreshold: 3, openMs },
    retry: { maxRetries: 4 },
    escalation: { enabled: false },
    hedge: { enabled: false },
  });
  const putPolicy = (policy: object) =>
    fetch(`${pool.url}/admin/policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(policy),
    });
  let pool: LocalFabric;
  beforeAll(async () => {
    // The flaky agent runs one job at a time, so its failures count one after another and the
    // breaker opens before a fourth job (which would succeed and close it) can start there; a burst
    // of three fills both agents and so always gives it one.
    pool = await startFabric({
      vars: { ...seeded, RUNG_ADMIN_KEY: ADMIN_KEY },
      agents: [
        { name: "agent-steady", models: [tiny] },
        { name: "agent-flaky", models: [tiny], extraArgs: ["--slots", "1", "--fault-fail-jobs", "3"] },
      ],
    });
    // This pool's policy comes through the admin route.
    const policy = policyWith(OPEN_MS);
    const put = await putPolicy(policy);
    expect(put.status).toBe(200);
    expect(((await put.json()) as { breaker: object }).breaker).toEqual(policy.breaker);
  });
  afterAll(() => pool?.stop());

  it("opens after the flaky node's failures, keeps every request answered, and closes after a good probe", async () => {
    const flaky = async () => breakerOf(await pool.status(), "rung-tiny", "agent-flaky");
    const touchedFlaky = (r: Answered) => r.rung.attempts.some((a) => a.node === "agent-flaky");

    const before: Answered[] = [];
    for (let round = 0; round < 5 && (await flaky()) !== "open"; round++) before.push(...(await burst(pool, 3, tinyRequest)));
    expect(await flaky()).toBe("open");
    const failures = before.flatMap((r) => r.rung.attempts).filter((a) => a.node === "agent-flaky");
    expect(failures.map((a) => a.outcome)).toEqual(["fault_injected", "fault_injected", "fault_injected"]);
    for (const { rung, node } of before) {
      expect(node).toBe("agent-steady");
      expect(rung.attempts.at(-1)!.outcome).toBe("answered");
    }
    const entry = (await pool.status()).breakers.find((b) => b.state === "open");
    expect(entry).toMatchObject({ modelId: "rung-tiny", consecutiveFailures: 3 });
    expect(breakerOf(await pool.status(), "rung-tiny", "agent-steady")).toBe("closed");

    // While open, nothing goes to the flaky node, even when the steady one is full and a request must wait.
    const whileOpen = [...(await burst(pool, 3, tinyRequest)), ...(await burst(pool, 3, tinyRequest))];
    expect(whileOpen.filter(touchedFlaky)).toEqual([]);
    expect(await flaky()).toBe("open");

    // A shorter openMs applies to the open breaker at once (its failures stay): the window is over,
    // one probe may go; the flaky node's faults are used up, so it succeeds and closes the breaker.
    expect((await putPolicy(policyWith(1_000))).status).toBe(200);
    await expect.poll(flaky, { timeout: 10_000 }).toBe("half_open");
    const after = await burst(pool, 3, tinyRequest);
    const probes = after.filter(touchedFlaky);
    expect(probes.map((p) => attemptsOf(p.rung))).toEqual([["rung-tiny:agent-flaky:answered"]]);
    expect(await flaky()).toBe("closed");
  });
});

describe("the queue", () => {
  /** Each job holds the single slot this long, so the burst is queued before the first ends. */
  const JOB_MS = 1500;
  let pool: LocalFabric;
  beforeAll(async () => {
    pool = await startFabric({
      vars: policyOf({ queue: { maxLength: 2, maxWaitMs: 20_000 }, escalation: { enabled: false } }),
      agents: [{ name: "agent-single", models: [tiny], extraArgs: ["--slots", "1", "--fault-first-token-delay-ms", String(JOB_MS)] }],
    });
  });
  afterAll(() => pool?.stop());

  it("refuses a burst beyond one running and two queued with 429 and Retry-After, and completes the rest", async () => {
    const requests = Array.from({ length: 6 }, () => pool.client.chat.completions.create(tinyRequest).withResponse());
    const settling = Promise.allSettled(requests);
    // The refusals come as soon as the burst has arrived, long before the first job ends:
    // at that moment one job runs and two wait.
    const errors: unknown[] = [];
    const refused = new Promise<void>((resolve) => {
      for (const request of requests) request.catch((error: unknown) => errors.push(error) === 3 && resolve());
    });
    await Promise.race([refused, settling]);
    const status = await pool.status();
    expect({ queued: status.queued, inFlight: status.inFlight }).toEqual({ queued: 2, inFlight: 1 });

    const settled = await settling;
    expect(errors).toHaveLength(3);
    for (const error of errors) {
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const retryAfter = (error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after");
      expect(Number(retryAfter)).toBeGreaterThan(0);
    }
    const answered = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
    expect(answered).toHaveLength(3);
    for (const { data, response } of answered) {
      expect(response.status).toBe(200);
      expect(data.choices[0]!.message.content!.length).toBeGreaterThan(0);
      expect(attemptsOf(rungOf(data))).toEqual(["rung-tiny:agent-single:answered"]);
    }
  });
});
