import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import { NodeSession, type NodeSessionHooks } from "../../node/node-session.ts";
import type { ModelInfo, NodeMessage } from "../../protocol/messages.ts";

const tiny: ModelInfo = { id: "tiny", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 1 };

/** A session whose hooks record every call, so a test sees which one each frame reached. */
function recordingSession() {
  const frames: NodeMessage[] = [];
  const calls: Array<[keyof NodeSessionHooks, unknown]> = [];
  const hooks: Required<NodeSessionHooks> = {
    onWelcome: (welcome) => calls.push(["onWelcome", welcome]),
    onRefused: (error) => calls.push(["onRefused", error]),
    onEdgeError: (error) => calls.push(["onEdgeError", error]),
    onBadFrame: (message) => calls.push(["onBadFrame", message]),
  };
  const engine = new EchoEngine({ models: [tiny], pieceDelayMs: 0 });
  const session = new NodeSession(engine, { name: "test-node", kind: "native" }, (frame) => frames.push(frame), hooks);
  return { session, frames, calls };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("NodeSession: the edge's own frames", () => {
  it("hands welcome to onWelcome", () => {
    const { session, calls } = recordingSession();
    session.handle({ type: "welcome", nodeId: "n1", protocol: "1.3" });
    expect(calls).toEqual([["onWelcome", { type: "welcome", nodeId: "n1", protocol: "1.3" }]]);
  });

  it("hands a fatal error to onRefused and any other to onEdgeError", () => {
    const { session, calls } = recordingSession();
    const refused = { code: "unauthorized", message: "no", retryable: false };
    const noted = { code: "bad_frame", message: "odd chunk", retryable: false };
    session.handle({ type: "error", error: refused, fatal: true });
    session.handle({ type: "error", error: noted, fatal: false });
    expect(calls).toEqual([
      ["onRefused", refused],
      ["onEdgeError", noted],
    ]);
  });

  it("runs the jobs it receives as text, and calls no hook for them", async () => {
    const { session, frames, calls } = recordingSession();
    session.receive(
      JSON.stringify({
        type: "job",
        jobId: "j1",
        model: tiny.id,
        input: { kind: "chat", messages: [{ role: "user", content: "hi" }] },
        sampling: { temperature: 0, topP: 1, stop: [] },
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(frames.map((f) => f.type)).toEqual(["chunk", "done"]);
    expect(calls).toEqual([]);
  });

  it("hands a frame that does not parse to onBadFrame and runs nothing", () => {
    const { session, frames, calls } = recordingSession();
    session.receive("not json");
    session.receive(JSON.stringify({ type: "job", jobId: "j1" }));
    expect(calls.map(([hook, message]) => [hook, typeof message])).toEqual([
      ["onBadFrame", "string"],
      ["onBadFrame", "string"],
    ]);
    expect(frames).toEqual([]);
  });

  it("is content without hooks", () => {
    const session = new NodeSession(new EchoEngine({ models: [tiny] }), { name: "n", kind: "native" }, () => {});
    expect(() => {
      session.handle({ type: "welcome", nodeId: "n1", protocol: "1.3" });
      session.handle({ type: "error", error: { code: "x", message: "y", retryable: false }, fatal: true });
      session.receive("not json");
    }).not.toThrow();
  });
});

describe("NodeSession: heartbeats", () => {
  it("sends one every interval to an edge that speaks 1.1+, until stopped", async () => {
    const { session, frames } = recordingSession();
    session.startHeartbeats("1.1", 100);
    await vi.advanceTimersByTimeAsync(250);
    expect(frames).toEqual([
      { type: "heartbeat", activeJobs: 0, models: [] },
      { type: "heartbeat", activeJobs: 0, models: [] },
    ]);
    session.stopHeartbeats();
    await vi.advanceTimersByTimeAsync(500);
    expect(frames).toHaveLength(2);
  });

  it("sends none to an older edge, which would count them as bad frames", async () => {
    const { session, frames } = recordingSession();
    session.startHeartbeats("1.0", 100);
    await vi.advanceTimersByTimeAsync(500);
    expect(frames).toEqual([]);
  });

  it("keeps one timer when started again, as on a rejoin", async () => {
    const { session, frames } = recordingSession();
    session.startHeartbeats("1.3", 100);
    session.startHeartbeats("1.3", 100);
    await vi.advanceTimersByTimeAsync(150);
    expect(frames).toHaveLength(1);
    session.stopHeartbeats();
  });
});
