import type { RungTrace } from "@rung/shared/openai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptsOf, breakerOf, type LocalFabric, rungOf, startFabric } from "./harness/fabric.ts";
import { hello, makeLadderModels, policyOf } from "./ladder-fixtures.ts";

/**
 * The ladder's resilience end to end: the edge in workerd, real rung-agent
 * processes on the generated rung-tiny model, and the official openai client.
 * A hedge on an agent whose first token is late, a circuit breaker on an agent
 * that fails its first jobs, and a queue that refuses a burst past its length.
 */

/** Vars for a pool whose node choice must repeat from run to run: the router's random draws are seeded. */
const seeded = { RUNG_RANDOM_SEED: "1" };

let tiny: string;
beforeAll(async () => {
  ({ tiny } = await makeLadderModels());
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
