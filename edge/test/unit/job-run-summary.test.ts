import { WireErrorCode, wireError } from "@rung/shared/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fabricJob, frames, pool, start, tick } from "./fake-host.ts";

// How a run tells the object it ended, once, whichever way: what limits, usage and metrics count.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("JobRun's summary", () => {
  it("says an answer: its model, usage, first token, node time and every attempt with its tier", async () => {
    const host = pool();
    host.nodes.get("c")!.tier = "public";
    const { run } = start(host, fabricJob({ stream: false }));
    const a = frames("req_1.1");
    await tick(40);
    run.onFrame(a.chunk("maybe", 0.3));
    run.onFrame(a.done());
    await tick(10);
    const c = frames("req_1.2");
    run.onFrame(c.chunk("surely", 0.99));
    await tick(20);
    run.onFrame(c.done());
    await (await run.response).text();
    expect(host.summaries).toEqual([
      {
        status: 200,
        model: "big",
        usage: { promptTokens: 1, completionTokens: 1 },
        totalMs: 70,
        firstTokenMs: 50,
        nodeMs: 30,
        attempts: [
          expect.objectContaining({ model: "small", node: "a", tier: "private", outcome: "escalated" }),
          expect.objectContaining({ model: "big", node: "c", tier: "public", outcome: "answered" }),
        ],
      },
    ]);
  });

  it("says a refusal's status, and a stream that broke after it committed as 502, each exactly once", async () => {
    const host = pool();
    for (const node of host.nodes.values()) node.busy = 1;
    const { run: queued } = start(host);
    await tick(15_000);
    expect((await queued.response).status).toBe(429);
    for (const node of host.nodes.values()) node.busy = 0;
    const { run } = start(host, fabricJob({ requestId: "req_2" }));
    const a = frames("req_2.1");
    for (let i = 0; i < 16; i++) run.onFrame(a.chunk("sure ", 0.99));
    await (await run.response).body?.getReader().read();
    run.onFrame(a.error(wireError(WireErrorCode.engineFailure, "out of memory", false)));
    run.abandon();
    expect(host.summaries.map((s) => [s.status, s.model])).toEqual([
      [429, undefined],
      [502, "small"],
    ]);
  });

  it("says 499 for a client that left before anything committed", async () => {
    const host = pool();
    const { run } = start(host);
    run.abandon();
    expect((await run.response).status).toBe(499);
    expect(host.summaries.map((s) => s.status)).toEqual([499]);
  });
});
