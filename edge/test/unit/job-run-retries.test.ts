import { WireErrorCode, wireError } from "@rung/shared/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { events, fabricJob, frames, outcomes, pool, start, type Trace, tick, twoRungs } from "./fake-host.ts";

// Retries and refusals: JobRun against a fake host and a fake clock, no sockets and no Durable Object.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("JobRun retries and refusals", () => {
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
    const { trace } = (await events(response)).at(-1) as unknown as { trace: Trace };
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
