import { SELF } from "cloudflare:test";
import type { Job } from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chat, edgeStatus, model, nodeInStatus, putPolicy, resetPolicy, sseData, TestNode } from "./test-node.ts";

afterEach(async () => {
  await TestNode.closeAll();
  await resetPolicy();
});

const small = model("rung-small", 1_000_000);
const large = model("rung-large", 9_000_000);

interface Body {
  model: string;
  choices: { message: { content: string } }[];
  rung: {
    escalations: number;
    profile?: string;
    attempts: { model: string; node: string; outcome: string; reason?: string; confidence?: { mean: number; min: number } }[];
  };
}

/** Both the small and the large rung connected, each on its own node. */
async function twoRungs(): Promise<{ little: TestNode; big: TestNode }> {
  return { little: await TestNode.join("little", [small]), big: await TestNode.join("big", [large]) };
}

/** Whichever of these nodes gets the next job: the router picks among equals at random. */
function firstJob(nodes: TestNode[]): Promise<{ node: TestNode; job: Job }> {
  return vi.waitFor(
    () => {
      for (const node of nodes) {
        const index = node.received.findIndex((m) => m.type === "job");
        if (index >= 0) return { node, job: node.received.splice(index, 1)[0] as Job };
      }
      throw new Error("no node got a job");
    },
    { timeout: 3_000, interval: 5 },
  );
}

const outcomes = (body: Body) => body.rung.attempts.map((a) => `${a.node}:${a.outcome}`);

describe("escalation on whole answers", () => {
  it("climbs when the answer's confidence is weak, and says why", async () => {
    const { little, big } = await twoRungs();
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["maybe"], 0.1);
    big.answer(await big.next("job"), ["surely"], 0.99);
    const response = await pending;
    expect(response.headers.get("x-rung-model")).toBe("rung-large");
    expect(response.headers.get("x-rung-escalations")).toBe("1");
    const body = (await response.json()) as Body;
    expect(body.choices[0]?.message.content).toBe("surely");
    expect(outcomes(body)).toEqual(["little:escalated", "big:answered"]);
    expect(body.rung.attempts[0]).toMatchObject({ reason: "mean confidence 0.10 < 0.97", confidence: { mean: 0.1, min: 0.1 } });
    expect(body.rung).toMatchObject({ escalations: 1, profile: "balanced" });
  });

  it("answers on the small rung when it is sure", async () => {
    const { little } = await twoRungs();
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["sure"], 0.99);
    const response = await pending;
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    expect(outcomes((await response.json()) as Body)).toEqual(["little:answered"]);
  });

  it("never climbs from a pinned model", async () => {
    const { little } = await twoRungs();
    const pending = chat({ model: "rung-small" });
    little.answer(await little.next("job"), ["maybe"], 0.1);
    expect(((await (await pending).json()) as Body).model).toBe("rung-small");
  });

  it("follows the request's own rung settings: no climbing, its own bar, its highest rung", async () => {
    const { little, big } = await twoRungs();
    const medium = await TestNode.join("medium", [model("rung-medium", 4_000_000)]);
    const stay = chat({ model: "auto", rung: { escalate: false } });
    little.answer(await little.next("job"), ["weak"], 0.1);
    expect(((await (await stay).json()) as Body).model).toBe("rung-small");

    const lowBar = chat({ model: "auto", rung: { min_confidence: 0.05 } });
    little.answer(await little.next("job"), ["weak"], 0.1);
    expect(((await (await lowBar).json()) as Body).model).toBe("rung-small");

    const capped = chat({ model: "auto", rung: { max_rung: "rung-medium" } });
    little.answer(await little.next("job"), ["weak"], 0.1);
    medium.answer(await medium.next("job"), ["weak too"], 0.1);
    const body = (await (await capped).json()) as Body;
    expect(body.model).toBe("rung-medium");
    expect(big.received.some((m) => m.type === "job")).toBe(false);
  });

  it("refuses a malformed rung field, naming it", async () => {
    await twoRungs();
    const response = await chat({ model: "auto", rung: { min_confidence: 2 } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: "rung.min_confidence" } });
  });

  it("keeps the weak answer when every larger rung fails", async () => {
    const { little, big } = await twoRungs();
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["weak but whole"], 0.1);
    const job = await big.next("job");
    big.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "out of memory", retryable: false } });
    const response = await pending;
    expect(response.status).toBe(200);
    const body = (await response.json()) as Body;
    expect(body.choices[0]?.message.content).toBe("weak but whole");
    expect(outcomes(body)).toEqual(["big:engine_failure", "little:answered"]);
    expect(body.rung.attempts[1]?.reason).toContain("kept after every larger rung failed");
  });
});

describe("escalation on streams: the commit window", () => {
  it("climbs before the client sees a byte when the first tokens are weak", async () => {
    await putPolicy({ escalation: { windowTokens: 2 } });
    const { little, big } = await twoRungs();
    const pending = chat({ model: "auto", stream: true });
    const weak = await little.next("job");
    little.send({ type: "chunk", jobId: weak.jobId, seq: 0, text: "um", confidence: 0.1 });
    little.send({ type: "chunk", jobId: weak.jobId, seq: 1, text: " er", confidence: 0.2 });
    // Judged at the second token, before done: the small node is told to stop.
    expect((await little.next("cancel")).jobId).toBe(weak.jobId);
    big.answer(await big.next("job"), ["clear ", "answer"], 0.99);
    const response = await pending;
    expect(response.headers.get("x-rung-model")).toBe("rung-large");
    const text = (await sseData(response))
      .slice(0, -1)
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
      .join("");
    expect(text).toBe("clear answer");
  });

  it("commits after commitMs with what it has, without waiting for the window to fill", async () => {
    await putPolicy({ escalation: { windowTokens: 100, commitMs: 100 } });
    const { little } = await twoRungs();
    const pending = chat({ model: "auto", stream: true });
    const job = await little.next("job");
    little.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "sure", confidence: 0.99 });
    // Headers arrive while the node has not finished: the stream committed on the clock.
    const response = await pending;
    expect(response.headers.get("x-rung-model")).toBe("rung-small");
    little.send({ type: "done", jobId: job.jobId, chunks: 1, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 1 } });
    expect((await sseData(response)).at(-1)).toBe("[DONE]");
  });

  it("streams at the first token when there is no higher rung to climb to", async () => {
    const little = await TestNode.join("little", [small]);
    const pending = chat({ model: "auto", stream: true });
    const job = await little.next("job");
    little.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "only", confidence: 0.1 });
    const response = await pending;
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    little.send({ type: "done", jobId: job.jobId, chunks: 1, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 1 } });
    await sseData(response);
  });
});

describe("capabilities", () => {
  const jsonCapable = { jsonSchema: true, tools: true, logprobs: true };
  const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
  const responseFormat = { type: "json_schema", json_schema: { name: "place", schema } };

  it("climbs when a JSON answer fails its schema, however sure the node was", async () => {
    const little = await TestNode.join("little", [{ ...small, capabilities: jsonCapable }]);
    const big = await TestNode.join("big", [{ ...large, capabilities: jsonCapable }]);
    const pending = chat({ model: "auto", response_format: responseFormat });
    const job = await little.next("job");
    expect(job.responseFormat).toEqual({ type: "json_schema", name: "place", schema });
    little.answer(job, ['{"town":', '"Oslo"}'], 0.99);
    big.answer(await big.next("job"), ['{"city":"Oslo"}'], 0.99);
    const body = (await (await pending).json()) as Body;
    expect(JSON.parse(body.choices[0]!.message.content)).toEqual({ city: "Oslo" });
    expect(body.rung.attempts[0]).toMatchObject({ outcome: "escalated" });
    expect(body.rung.attempts[0]?.reason).toContain("required");
  });

  it("sends a request that needs a capability only to models that announced it", async () => {
    const plain = await TestNode.join("plain", [small]);
    const capable = await TestNode.join("capable", [{ ...large, capabilities: jsonCapable }]);
    const pending = chat({ model: "auto", response_format: responseFormat });
    capable.answer(await capable.next("job"), ['{"city":"Bergen"}']);
    expect(((await (await pending).json()) as Body).model).toBe("rung-large");
    expect(plain.received.some((m) => m.type === "job")).toBe(false);
    const refused = await chat({ model: "rung-small", response_format: responseFormat });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "capability_unsupported" } });
  });
});

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

describe("profiles", () => {
  it("start where the profile says: auto:quality on the top rung", async () => {
    const { big } = await twoRungs();
    const pending = chat({ model: "auto:quality" });
    big.answer(await big.next("job"), ["best"]);
    const body = (await (await pending).json()) as Body;
    expect(body).toMatchObject({ model: "rung-large", rung: { profile: "quality" } });
  });

  it("refuses an unknown profile, listing the valid ones", async () => {
    await twoRungs();
    const response = await chat({ model: "auto:cheapest" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("auto:budget");
  });
});

describe("policy administration", () => {
  const admin = (init: RequestInit & { key?: string } = {}) =>
    SELF.fetch("http://edge/admin/policy", { ...init, headers: { authorization: `Bearer ${init.key ?? "admin-key-for-tests"}` } });

  it("refuses an invalid policy naming the field, and the old one stays", async () => {
    expect((await putPolicy({ escalation: { minMeanConfidence: 0.3 } })).status).toBe(200);
    const refused = await putPolicy({ escalation: { minMeanConfidence: 3 } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("escalation.minMeanConfidence");
    const current = (await (await admin()).json()) as { escalation: { minMeanConfidence: number } };
    expect(current.escalation.minMeanConfidence).toBe(0.3);
  });

  it("refuses a wrong admin key", async () => {
    expect((await admin({ key: "guess" })).status).toBe(401);
  });

  it("shows where the policy came from on the status page", async () => {
    await putPolicy({ defaultProfile: "speed" });
    const status = (await (await SELF.fetch("http://edge/v1/status")).json()) as { defaultProfile: string; policy: { source: string } };
    expect(status).toMatchObject({ defaultProfile: "speed", policy: { source: "admin" } });
  });
});
