import { describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import { ForwardingEngine } from "../../node/forwarding-engine.ts";
import { type Hardware, PROTOCOL_VERSION } from "../../protocol/messages.ts";
import { echoSession, echoTiny, job, PIECE_MS, sessionWith, settle, tiny, useFakeTimersPerTest } from "./session-fixtures.ts";

// A NodeSession's heartbeats: running jobs, measured speed (from jobs, or the engine's after hello), and the engine's hardware.

useFakeTimersPerTest();

describe("NodeSession: heartbeat and measured speed", () => {
  it("reports running jobs, and no speed before a job finished", async () => {
    const { session } = echoSession(2);
    session.handle(job("j1", "one two three four"));
    await settle();
    expect(await session.heartbeat()).toEqual({ type: "heartbeat", activeJobs: 1, models: [] });
    await vi.advanceTimersByTimeAsync(PIECE_MS * 5);
    expect((await session.heartbeat()).activeJobs).toBe(0);
  });

  it("measures tokens/s from finished jobs and announces it on the next hello", async () => {
    const { session, frames } = echoSession(1);
    session.handle(job("j1", "one two three four five"));
    await vi.advanceTimersByTimeAsync(PIECE_MS * 6);
    expect(frames.at(-1)?.type).toBe("done");
    const { models } = await session.heartbeat();
    expect(models).toEqual([{ id: tiny.id, tokensPerSecond: expect.any(Number) }]);
    const measured = models[0]!.tokensPerSecond;
    expect(measured).toBeGreaterThan(0);
    expect(session.hello().models).toEqual([{ ...echoTiny, tokensPerSecond: measured }]);
  });

  it("adds the engine's hardware to hello and its free VRAM to heartbeats", async () => {
    const hardware: Hardware = {
      backend: "cuda",
      devices: ["GPU 0"],
      vramTotalBytes: 8e9,
      vramFreeBytes: 6e9,
      ramTotalBytes: 32e9,
      cpuCores: 8,
    };
    const engine = Object.assign(new EchoEngine({ models: [tiny] }), { hardware, freeVramBytes: async () => 5e9 });
    const { session } = sessionWith(engine);
    expect(session.hello().hardware).toEqual(hardware);
    expect((await session.heartbeat()).vramFreeBytes).toBe(5e9);
  });

  it("still sends a heartbeat when the engine cannot read its free VRAM", async () => {
    const engine = Object.assign(new EchoEngine({ models: [tiny] }), { freeVramBytes: () => Promise.reject(new Error("driver gone")) });
    const { session } = sessionWith(engine);
    expect(await session.heartbeat()).toEqual({ type: "heartbeat", activeJobs: 0, models: [] });
  });
});

/** An engine whose model joins unmeasured (0 tok/s) and gets its figure later, as a native agent's speed probe gives it. */
class LateMeasuredEngine extends ForwardingEngine {
  speed = 0;

  constructor() {
    super(new EchoEngine({ models: [{ ...tiny, tokensPerSecond: 0 }], pieceDelayMs: PIECE_MS }));
  }

  override get models() {
    return this.inner.models.map((m) => ({ ...m, tokensPerSecond: this.speed }));
  }
}

describe("NodeSession: a speed measured after hello", () => {
  it("goes out in heartbeats until the next hello carries it", async () => {
    const engine = new LateMeasuredEngine();
    const { session } = sessionWith(engine);
    expect(session.hello().models[0]!.tokensPerSecond).toBe(0);
    expect(session.hasNewSpeeds).toBe(false);

    engine.speed = 250;
    expect(session.hasNewSpeeds).toBe(true);
    expect((await session.heartbeat()).models).toEqual([{ id: tiny.id, tokensPerSecond: 250 }]);
    expect(session.hello().models[0]!.tokensPerSecond).toBe(250);
    expect(session.hasNewSpeeds).toBe(false);
    expect((await session.heartbeat()).models).toEqual([]);
  });

  it("gives way to the speed real jobs measured", async () => {
    const engine = new LateMeasuredEngine();
    const { session } = sessionWith(engine);
    session.hello();
    session.handle(job("j1", "one two three four five"));
    await vi.advanceTimersByTimeAsync(PIECE_MS * 6);
    engine.speed = 1;
    const { models } = await session.heartbeat();
    expect(models).toEqual([{ id: tiny.id, tokensPerSecond: expect.any(Number) }]);
    expect(models[0]!.tokensPerSecond).toBeGreaterThan(1);
    expect(session.hasNewSpeeds).toBe(false);
  });

  it("is sent at once by heartbeatNow once heartbeats run, and by startHeartbeats when it came before the welcome", async () => {
    const engine = new LateMeasuredEngine();
    const { session, frames } = sessionWith(engine);
    session.hello();
    const heartbeats = () => frames.filter((f) => f.type === "heartbeat");

    engine.speed = 250;
    // Not joined yet: nothing to send on, and no error.
    session.heartbeatNow();
    await settle();
    expect(heartbeats()).toEqual([]);

    session.startHeartbeats(PROTOCOL_VERSION, 15_000);
    await settle();
    expect(heartbeats()).toEqual([{ type: "heartbeat", activeJobs: 0, models: [{ id: tiny.id, tokensPerSecond: 250 }] }]);

    engine.speed = 260;
    session.heartbeatNow();
    await settle();
    expect(heartbeats().at(-1)).toEqual({ type: "heartbeat", activeJobs: 0, models: [{ id: tiny.id, tokensPerSecond: 260 }] });
    session.stopHeartbeats();
  });

  it("is not sent to an edge older than 1.1, which counts heartbeats as bad frames", async () => {
    const engine = new LateMeasuredEngine();
    const { session, frames } = sessionWith(engine);
    session.hello();
    engine.speed = 250;
    session.startHeartbeats("1.0", 15_000);
    session.heartbeatNow();
    await settle();
    expect(frames).toEqual([]);
  });
});
