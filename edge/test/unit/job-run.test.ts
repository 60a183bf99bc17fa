import { WireErrorCode, wireError } from "@rung/shared/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobRun } from "../../src/fabric/job-run.ts";
import { events, FakeHost, fabricJob, frames, twoRungs } from "./fake-host.ts";

// JobRun against a fake host and a fake clock: no sockets, no Durable Object.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A pool of three nodes: a and b serve the small rung, c the big one. */
function pool(): FakeHost {
  return new FakeHost().node("a", ["small"]).node("b", ["small"]).node("c", ["big"]);
}

function start(host: FakeHost, job = fabricJob(), ladder = twoRungs()): { run: JobRun; settled: () => boolean } {
  const run = new JobRun(job, ladder, host);
  let settled = false;
  void run.response.then(() => {
    settled = true;
  });
  run.start();
  return { run, settled: () => settled };
}

/** Lets the microtasks run (promise settlements, the host's queue wake-ups) and moves the clock. */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

const outcomes = (trace: { attempts: { node: string; outcome: string }[] }) => trace.attempts.map((a) => `${a.node}:${a.outcome}`);

describe("JobRun commit window", () => {
  it("commits a sure stream once its window is full, and streams the rest through", async () => {
    const host = pool();
    const { run, settled } = start(host);
    expect(host.last).toMatchObject({ nodeId: "a", job: { model: "small", jobId: "req_1.1" } });
    const a = frames("req_1.1");
    for (const text of ["one ", "two ", "three "]) run.onFrame(a.chunk(text, 0.99));
    await tick();
    expect(settled()).toBe(false);
    run.onFrame(a.chunk("four ", 0.95));
    const response = await run.response;
    expect(response.headers.get("x-rung-model")).toBe("small");
    expect(response.headers.get("x-rung-node")).toBe("a");
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    run.onFrame(a.chunk("five", 0.1));
    run.onFrame(a.done());
    const body = await events(response);
    expect(body.slice(0, 2)).toEqual([
      { type: "delta", text: "one two three four " },
      { type: "delta", text: "five" },
    ]);
    expect(body[2]).toMatchObject({ type: "end", finishReason: "stop", trace: { model: "small", escalations: 0, profile: "balanced" } });
    const end = body[2] as unknown as { trace: { attempts: { confidence: unknown }[] } };
    expect(end.trace.attempts).toEqual([expect.objectContaining({ outcome: "answered", confidence: { mean: 0.98, min: 0.95 } })]);
    expect(host.jobs).toHaveLength(1);
  });

  it("judges a short window once commitMs passed since the first token", async () => {
    const host = pool();
    const { run, settled } = start(host);
    run.onFrame(frames("req_1.1").chunk("sure", 0.99));
    await tick(499);
    expect(settled()).toBe(false);
    await tick(1);
    expect(settled()).toBe(true);
    expect((await run.response).headers.get("x-rung-model")).toBe("small");
  });

  it("climbs on a weak window before the client sees a byte, and answers from the larger rung", async () => {
    const host = pool();
    const { run } = start(host);
    const a = frames("req_1.1");
    for (let i = 0; i < 4; i++) run.onFrame(a.chunk("maybe ", 0.2));
    expect(host.cancelled).toEqual(["req_1.1"]);
    expect(host.last).toMatchObject({ nodeId: "c", job: { model: "big", jobId: "req_1.2" } });
    // The model was unsure; the node did its job.
    expect(host.health).toEqual(["a small ok"]);
    // The top rung has nowhere to climb: it streams from its first token.
    const c = frames("req_1.2");
    run.onFrame(c.chunk("surely ", 0.5));
    const response = await run.response;
    expect(response.headers.get("x-rung-model")).toBe("big");
    expect(response.headers.get("x-rung-escalations")).toBe("1");
    run.onFrame(c.chunk("so", 0.5));
    run.onFrame(c.done());
    const body = await events(response);
    expect(body.slice(0, 2)).toEqual([
      { type: "delta", text: "surely " },
      { type: "delta", text: "so" },
    ]);
    const { trace } = body.at(-1) as unknown as { trace: { attempts: { node: string; outcome: string; reason?: string }[] } };
    expect(outcomes(trace)).toEqual(["a:escalated", "c:answered"]);
    expect(trace.attempts[0]).toMatchObject({ reason: "mean confidence 0.20 < 0.9", confidence: { mean: 0.2, min: 0.2 } });
  });

  it("holds a JSON stream to its end and climbs when the answer is not the JSON asked for", async () => {
    const host = pool();
    const { run, settled } = start(host, fabricJob({ responseFormat: { type: "json_object" } }));
    const a = frames("req_1.1");
    for (const text of ["[", "1", ",2", "]"]) run.onFrame(a.chunk(text, 0.99));
    // A full window of sure tokens, and past commitMs (not the silence timeout): still held, for only the whole answer can be checked.
    await tick(900);
    expect(settled()).toBe(false);
    expect(host.jobs).toHaveLength(1);
    run.onFrame(a.done());
    expect(host.last.nodeId).toBe("c");
    const c = frames("req_1.2");
    run.onFrame(c.chunk('{"a":1}', 0.99));
    run.onFrame(c.done());
    const body = await events(await run.response);
    expect(body[0]).toEqual({ type: "delta", text: '{"a":1}' });
    const { trace } = body.at(-1) as unknown as { trace: { attempts: { node: string; outcome: string; reason?: string }[] } };
    expect(outcomes(trace)).toEqual(["a:escalated", "c:answered"]);
    expect(trace.attempts[0]?.reason).toBe("expected a JSON object, got an array");
  });
});

describe("JobRun hedging and retries", () => {
  it("hedges on a second node after the delay, and cancels the loser when the hedge answers first", async () => {
    const host = pool();
    host.hedgeDelay = 300;
    const { run } = start(host);
    await tick(299);
    expect(host.jobs.map((j) => j.nodeId)).toEqual(["a"]);
    await tick(1);
    expect(host.jobs.map((j) => `${j.nodeId} ${j.job.jobId}`)).toEqual(["a req_1.1", "b req_1.2"]);
    await tick(50);
    run.onFrame(frames("req_1.2").chunk("quick", null));
    expect(host.cancelled).toEqual(["req_1.1"]);
    // The winner's first token, and the loser's wait as a lower bound of its own.
    expect(host.firstTokens).toEqual(["b small 50", "a small 350"]);
    // Frames of the loser arriving late are ignored.
    run.onFrame(frames("req_1.1").chunk("slow", 0.99));
    await tick(500);
    const response = await run.response;
    expect(response.headers.get("x-rung-node")).toBe("b");
    run.onFrame(frames("req_1.2").done({ chunks: 1 }));
    const body = await events(response);
    expect(body[0]).toEqual({ type: "delta", text: "quick" });
    const { trace } = body.at(-1) as unknown as { trace: { attempts: { node: string; outcome: string; reason?: string }[] } };
    expect(outcomes(trace)).toEqual(["a:hedge_lost", "b:answered"]);
    expect(trace.attempts[0]?.reason).toBe("b answered first");
  });

  it("retries elsewhere after a retryable error, and counts it against the node", async () => {
    const host = pool();
    const { run } = start(host, fabricJob({ stream: false }));
    run.onFrame(frames("req_1.1").error(wireError(WireErrorCode.engineFailure, "the engine hiccuped", true)));
    expect(host.health).toEqual(["a small failed"]);
    expect(host.last).toMatchObject({ nodeId: "b", job: { model: "small", jobId: "req_1.2" } });
    const b = frames("req_1.2");
    run.onFrame(b.chunk("fine", 0.99));
    run.onFrame(b.done());
    const response = await run.response;
    expect(response.headers.get("x-rung-attempts")).toBe("2");
    const { trace } = (await events(response)).at(-1) as unknown as { trace: { attempts: { node: string; outcome: string }[] } };
    expect(outcomes(trace)).toEqual(["a:engine_failure", "b:answered"]);
  });

  it("falls back to a rung below its start only after an error there", async () => {
    const host = pool();
    host.nodes.get("c")!.slots = 2;
    host.nodes.get("c")!.busy = 1;
    const { run } = start(host, fabricJob({ stream: false }), { ...twoRungs(), startIndex: 1 });
    // c has a slot left; a and b are free too, but below the start.
    expect(host.jobs.map((j) => j.nodeId)).toEqual(["c"]);
    host.nodes.get("c")!.busy = 2;
    run.onFrame(frames("req_1.1").error(wireError(WireErrorCode.busy, "no free slot", true)));
    expect(host.last).toMatchObject({ nodeId: "a", job: { model: "small" } });
    run.abandon();
  });

  it("waits for its start rung rather than spill down while nothing failed", async () => {
    const host = pool();
    host.nodes.get("c")!.busy = 1;
    const { run } = start(host, fabricJob({ stream: false }), { ...twoRungs(), startIndex: 1 });
    expect(host.jobs).toEqual([]);
    expect(host.queue).toEqual([run]);
    run.abandon();
  });

  it("moves on when a node is silent for the token timeout, each token resetting it", async () => {
    const host = pool();
    // No larger rung to spill over to: the small rung's nodes are all there is.
    host.nodes.get("c")!.busy = 1;
    const { run } = start(host, fabricJob({ stream: false }));
    await tick(999);
    expect(host.jobs).toHaveLength(1);
    await tick(1);
    expect(host.cancelled).toEqual(["req_1.1"]);
    expect(host.health).toEqual(["a small failed"]);
    expect(host.last.nodeId).toBe("b");
    await tick(900);
    run.onFrame(frames("req_1.2").chunk("and then", 0.99));
    await tick(999);
    expect(host.jobs).toHaveLength(2);
    await tick(1);
    expect(host.cancelled).toEqual(["req_1.1", "req_1.2"]);
    // Both nodes of the rung failed it: after a backoff they get another try.
    await tick(9);
    expect(host.jobs).toHaveLength(2);
    await tick(1);
    expect(host.last).toMatchObject({ nodeId: "a", job: { jobId: "req_1.3" } });
    run.abandon();
  });

  it("does not count a busy node against its breaker", async () => {
    const host = pool();
    const { run } = start(host, fabricJob({ stream: false }));
    run.onFrame(frames("req_1.1").error(wireError(WireErrorCode.busy, "no free slot", true)));
    expect(host.health).toEqual([]);
    expect(host.last.nodeId).toBe("b");
    run.abandon();
  });

  it("refuses with 400 when the node says the request's schema is at fault, and tries no other node", async () => {
    const host = pool();
    const { run } = start(host, fabricJob({ responseFormat: { type: "json_schema", name: "x", schema: { type: "wat" } } }));
    run.onFrame(frames("req_1.1").error(wireError(WireErrorCode.invalidSchema, "no grammar for this schema", false)));
    const response = await run.response;
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_schema", message: "no grammar for this schema" } });
    expect(host.jobs).toHaveLength(1);
    expect(host.health).toEqual([]);
  });

  it("refuses with 502 when a node fails for good and nothing was kept", async () => {
    const host = pool();
    const { run } = start(host, fabricJob({ stream: false }));
    run.onFrame(frames("req_1.1").error(wireError(WireErrorCode.engineFailure, "the model file is corrupt", false)));
    const response = await run.response;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      error: { code: "engine_failure", message: "The node failed: the model file is corrupt" },
    });
  });
});

describe("JobRun when nothing better comes", () => {
  it("answers with the kept weak answer when every larger rung fails", async () => {
    const host = pool();
    const { run } = start(host, fabricJob({ stream: false }));
    const a = frames("req_1.1");
    run.onFrame(a.chunk("maybe", 0.3));
    run.onFrame(a.done());
    expect(host.last.nodeId).toBe("c");
    run.onFrame(frames("req_1.2").error(wireError(WireErrorCode.engineFailure, "out of memory", false)));
    const response = await run.response;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-rung-model")).toBe("small");
    expect(response.headers.get("x-rung-escalations")).toBe("1");
    const body = await events(response);
    expect(body[0]).toEqual({ type: "delta", text: "maybe" });
    const { trace } = body.at(-1) as unknown as { trace: { attempts: { node: string; outcome: string; reason?: string }[] } };
    expect(outcomes(trace)).toEqual(["c:engine_failure", "a:answered"]);
    expect(trace.attempts[1]?.reason).toBe("kept after every larger rung failed (mean confidence 0.30 < 0.9)");
  });

  it("waits in the queue while every node is busy and starts as soon as a slot frees", async () => {
    const host = pool();
    host.nodes.get("a")!.busy = 1;
    host.nodes.get("b")!.busy = 1;
    host.nodes.get("c")!.busy = 1;
    const { run, settled } = start(host);
    expect(host.queue).toEqual([run]);
    await tick(5_000);
    expect(settled()).toBe(false);
    host.nodes.get("b")!.busy = 0;
    run.slotFreed();
    expect(host.last).toMatchObject({ nodeId: "b", job: { model: "small" } });
    expect(host.queue).toEqual([]);
    run.abandon();
  });

  it("answers 429 with Retry-After when the queue wait runs out", async () => {
    const host = pool();
    for (const node of host.nodes.values()) node.busy = 1;
    host.timing.requestTimeoutMs = 60_000;
    const { run, settled } = start(host);
    await tick(14_999);
    expect(settled()).toBe(false);
    await tick(1);
    const response = await run.response;
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: { code: "nodes_busy", message: expect.stringContaining("stayed busy for 15s") } });
    expect(host.queue).toEqual([]);
  });

  it("answers 429, not 504, when the deadline comes while the request waits in the queue", async () => {
    const host = pool();
    for (const node of host.nodes.values()) node.busy = 1;
    const { run, settled } = start(host);
    await tick(5_999);
    expect(settled()).toBe(false);
    await tick(1);
    const response = await run.response;
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("stayed busy until its deadline") } });
  });

  it("answers 429 at once when the queue is full", async () => {
    const host = pool();
    for (const node of host.nodes.values()) node.busy = 1;
    host.queueLength = 0;
    const { run } = start(host);
    const response = await run.response;
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("the queue is full") } });
  });

  it("gives up with 504 at the request's deadline, and stops the node", async () => {
    const host = pool();
    const { run, settled } = start(host, fabricJob({ stream: false }));
    const a = frames("req_1.1");
    // A whole answer that keeps coming, token by token, past the deadline.
    for (let i = 0; i < 6; i++) {
      run.onFrame(a.chunk("more ", 0.99));
      await tick(900);
    }
    run.onFrame(a.chunk("more ", 0.99));
    await tick(599);
    expect(settled()).toBe(false);
    await tick(1);
    const response = await run.response;
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: "timeout", message: expect.stringContaining("no answer within 6s") } });
    expect(host.cancelled).toEqual(["req_1.1"]);
  });

  it("ends a committed stream with a fail event when its node goes away", async () => {
    const host = pool();
    // One rung: nothing to climb to, so the stream commits at its first token.
    const ladder = { ...twoRungs(), rungs: [{ modelId: "small", nodeIds: ["a", "b"] }] };
    const { run } = start(host, fabricJob(), ladder);
    run.onFrame(frames("req_1.1").chunk("half an ", 0.99));
    const response = await run.response;
    run.onNodeGone("a");
    expect(await events(response)).toEqual([
      { type: "delta", text: "half an " },
      { type: "fail", code: "node_disconnected", message: "the node disconnected" },
    ]);
    expect(host.health).toEqual(["a small failed"]);
    expect(host.jobs).toHaveLength(1);
    // The socket is gone: nothing to cancel.
    expect(host.cancelled).toEqual([]);
  });
});
