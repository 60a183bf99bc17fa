import { WireErrorCode, wireError } from "@rung/shared/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { events, fabricJob, frames, outcomes, pool, start, type Trace, tick, twoRungs } from "./fake-host.ts";

// When nothing better comes: JobRun against a fake host and a fake clock, no sockets and no Durable Object.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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
    const { trace } = body.at(-1) as unknown as { trace: Trace };
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
