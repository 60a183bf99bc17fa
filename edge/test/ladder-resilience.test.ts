import { SELF } from "cloudflare:test";
import type { Job } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type Body, closeNodesAndResetPolicy, firstJob, outcomes, small } from "./ladder-fixtures.ts";
import { chat, edgeStatus, nodeInStatus, putPolicy, TestNode } from "./test-node.ts";

// The ladder when a rung's node or upstream fails or is slow: an upstream without its key, hedging a late
// first token, circuit breakers that open and close, retries after a backoff.

afterEach(closeNodesAndResetPolicy);

describe("upstreams", () => {
  it("move a request on to the nodes when their key secret is missing, saying so in the trace", async () => {
    const cloud = { id: "cloud-large", parameters: 70_000_000_000, contextLength: 8192 };
    expect(
      (
        await putPolicy({
          upstreams: [{ name: "cloud", baseUrl: "https://cloud.upstream.test/v1", keySecret: "NOT_SET", models: [cloud] }],
        })
      ).status,
    ).toBe(200);
    const little = await TestNode.join("little", [small]);
    const pending = chat({ model: "auto:quality" });
    little.answer(await little.next("job"), ["local"]);
    const body = (await (await pending).json()) as Body;
    expect(body.model).toBe("rung-small");
    expect(outcomes(body)).toEqual(["cloud:upstream_key_missing", "little:answered"]);
  });
});

describe("hedging", () => {
  /** Two nodes of one model and a request whose first token is late: the second node gets the job too. */
  async function hedgedRequest() {
    await putPolicy({ hedge: { afterMs: 100 }, escalation: { enabled: false } });
    const one = await TestNode.join("one", [small]);
    const two = await TestNode.join("two", [small]);
    const pending = chat({ model: "auto" });
    const slow = await firstJob([one, two]);
    const fast = await firstJob([one, two].filter((n) => n !== slow.node));
    return { pending, slow, fast };
  }

  it("starts the job on a second node when the first token is late, and the first to answer wins", async () => {
    const { pending, slow, fast } = await hedgedRequest();
    fast.node.answer(fast.job, ["hedged"]);
    expect((await slow.node.next("cancel")).jobId).toBe(slow.job.jobId);
    const body = (await (await pending).json()) as Body;
    expect(body.choices[0]?.message.content).toBe("hedged");
    expect(body.rung.attempts.map((a) => a.outcome)).toEqual(["hedge_lost", "answered"]);
  });

  it("ends the race and frees the loser's slot when the winner answers without a chunk", async () => {
    const { pending, slow, fast } = await hedgedRequest();
    fast.node.answer(fast.job, []);
    expect((await slow.node.next("cancel")).jobId).toBe(slow.job.jobId);
    expect((await pending).status).toBe(200);
    const status = (await (await SELF.fetch("http://edge/v1/status")).json()) as { inFlight: number };
    expect(status.inFlight).toBe(0);
  });
});

describe("circuit breakers", () => {
  it("open after consecutive failures, keep jobs off the node, and close after a good probe", async () => {
    // An open window no busy machine outruns; the test shortens it below to let the probe go.
    const policyWith = (openMs: number) => ({ breaker: { failureThreshold: 2, openMs }, retry: { baseDelayMs: 1 } });
    await putPolicy(policyWith(600_000));
    const flaky = await TestNode.join("flaky", [small], 8);
    const steady = await TestNode.join("steady", [small], 8);
    const fail = (job: Job) =>
      flaky.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "boom", retryable: true } });

    // Until the breaker opens, requests may start on either node; the flaky one fails each time.
    let failures = 0;
    while (failures < 2) {
      const pending = chat({ model: "auto" });
      const first = await firstJob([flaky, steady]);
      if (first.node === flaky) {
        fail(first.job);
        failures++;
        steady.answer(await steady.next("job"), ["rescued"]);
      } else steady.answer(first.job, ["direct"]);
      expect((await pending).status).toBe(200);
    }
    const breaker = async () => nodeInStatus(await edgeStatus(), "rung-small", "flaky")?.breaker;
    expect(await breaker()).toBe("open");

    for (let i = 0; i < 3; i++) {
      const pending = chat({ model: "auto" });
      steady.answer(await steady.next("job"), ["steady"]);
      expect((await pending).status).toBe(200);
    }
    expect(flaky.received.some((m) => m.type === "job")).toBe(false);

    // After openMs one probe is let through; it succeeds and the breaker closes. A shorter openMs
    // applies to the open breaker at once (its failures stay), so its window is over.
    await putPolicy(policyWith(100));
    await expect.poll(breaker).toBe("half_open");
    let probed = false;
    for (let i = 0; i < 10 && !probed; i++) {
      const pending = chat({ model: "auto" });
      const first = await firstJob([flaky, steady]);
      probed = first.node === flaky;
      first.node.answer(first.job, ["ok"]);
      expect((await pending).status).toBe(200);
    }
    expect(probed).toBe(true);
    expect(await breaker()).toBe("closed");
  });
});

describe("retries", () => {
  it("retries a lone node after a backoff when it fails retryably", async () => {
    await putPolicy({ retry: { maxRetries: 1, baseDelayMs: 20 } });
    const only = await TestNode.join("only", [small]);
    const pending = chat({ model: "auto" });
    const job = await only.next("job");
    only.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "hiccup", retryable: true } });
    only.answer(await only.next("job"), ["second time"]);
    const response = await pending;
    expect(response.headers.get("x-rung-attempts")).toBe("2");
    expect(outcomes((await response.json()) as Body)).toEqual(["only:engine_failure", "only:answered"]);
  });

  it("gives up after maxRetries and says what each attempt did", async () => {
    await putPolicy({ retry: { maxRetries: 1, baseDelayMs: 1 } });
    const only = await TestNode.join("only", [small]);
    const pending = chat({ model: "auto" });
    for (let i = 0; i < 2; i++) {
      const job = await only.next("job");
      only.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "broken", retryable: true } });
    }
    const response = await pending;
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      "rung-small@only: engine_failure; rung-small@only: engine_failure",
    );
  });
});
