import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { events, fabricJob, frames, outcomes, pool, start, type Trace, tick } from "./fake-host.ts";

// The commit window and the hedge race: JobRun against a fake host and a fake clock, no sockets and no Durable Object.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

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
    expect(end.trace.attempts).toEqual([
      expect.objectContaining({
        outcome: "answered",
        confidence: { mean: 0.98, min: 0.95, judge: "mean confidence", score: 0.98, bar: expect.any(Number) },
      }),
    ]);
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
    const { trace } = body.at(-1) as unknown as { trace: Trace };
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
    const { trace } = body.at(-1) as unknown as { trace: Trace };
    expect(outcomes(trace)).toEqual(["a:escalated", "c:answered"]);
    expect(trace.attempts[0]?.reason).toBe("expected a JSON object, got an array");
  });
});

describe("JobRun hedging", () => {
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
    const { trace } = body.at(-1) as unknown as { trace: Trace };
    expect(outcomes(trace)).toEqual(["a:hedge_lost", "b:answered"]);
    expect(trace.attempts[0]?.reason).toBe("b answered first");
  });
});
