import { describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import type { Hardware } from "../../protocol/messages.ts";
import { echoSession, echoTiny, job, PIECE_MS, sessionWith, settle, tiny, useFakeTimersPerTest } from "./session-fixtures.ts";

// A NodeSession's heartbeats: running jobs, measured speed, and the engine's hardware.

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
