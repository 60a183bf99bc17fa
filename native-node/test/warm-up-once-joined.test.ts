import { setTimeout as sleep } from "node:timers/promises";
import { type Heartbeat, type Hello, type NodeMessage, PROTOCOL_VERSION } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { warmUpOnceJoined } from "../src/cli/warm-up-once-joined.ts";
import { AgentLink } from "../src/link/agent-link.ts";
import { ECHO_MODEL } from "./helpers/echo-models.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";
import { ProbingEngine } from "./helpers/probing-engine.ts";

// The agent joins before its warm-up (the speed probe) starts, and the edge hears the speed as soon as it is known.

const isHello = (f: NodeMessage): f is Hello => f.type === "hello";
const isHeartbeat = (f: NodeMessage): f is Heartbeat => f.type === "heartbeat";
const welcome = { type: "welcome", nodeId: "node_probing", protocol: PROTOCOL_VERSION } as const;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An agent's link over a WebSocket to a fake edge, its warm-up wired as the start command wires it. */
async function startAgent() {
  const edge = await FakeEdge.start();
  const engine = new ProbingEngine();
  const logger = memoryLogger();
  // The default heartbeat interval (15 s): a heartbeat within a test's time is one sent at once.
  const link = new AgentLink({ edge: edge.url, engine, identity: { name: "probing", kind: "native" }, logger, transport: "websocket" });
  cleanups.push(
    () => edge.stop(),
    () => link.close(),
  );
  const warmedUp = warmUpOnceJoined(engine, link, logger);
  return { edge, engine, logger, warmedUp, conn: await edge.connection(0) };
}

describe("warmUpOnceJoined", () => {
  it("joins unmeasured, warms up once welcomed, then sends the measured speed to the edge at once", async () => {
    const { engine, logger, conn, warmedUp } = await startAgent();
    const hello = await conn.waitFor(isHello);
    expect(hello.models).toEqual([expect.objectContaining({ id: ECHO_MODEL.id, tokensPerSecond: 0 })]);
    await sleep(50);
    expect(engine.warming).toBe(false);

    conn.send(welcome);
    await expect.poll(() => engine.warming).toBe(true);
    expect(conn.frames.filter(isHeartbeat)).toEqual([]);

    engine.finishProbe(250);
    await warmedUp;
    expect(await conn.waitFor(isHeartbeat, 2_000)).toEqual({
      type: "heartbeat",
      activeJobs: 0,
      models: [{ id: ECHO_MODEL.id, tokensPerSecond: 250 }],
    });
    expect(logger.lines).toContain(`info ${ECHO_MODEL.id}: measured 250 tok/s`);
    expect(conn.badFrames).toEqual([]);
  });

  it("sends the speed with the next welcome when the socket dropped before the probe ended", async () => {
    const { edge, engine, conn, warmedUp } = await startAgent();
    await conn.waitFor(isHello);
    conn.send(welcome);
    await expect.poll(() => engine.warming).toBe(true);
    conn.socket.terminate();

    const again = await edge.connection(1, 5_000);
    expect((await again.waitFor(isHello)).models[0]!.tokensPerSecond).toBe(0);
    engine.finishProbe(180);
    await warmedUp;
    await sleep(50);
    expect(again.frames.filter(isHeartbeat)).toEqual([]);
    again.send(welcome);
    expect((await again.waitFor(isHeartbeat, 2_000)).models).toEqual([{ id: ECHO_MODEL.id, tokensPerSecond: 180 }]);
  });

  it("keeps the node serving, unmeasured, when the warm-up fails", async () => {
    const { engine, logger, conn, warmedUp } = await startAgent();
    await conn.waitFor(isHello);
    conn.send(welcome);
    engine.failProbe(new Error("context is gone"));
    await warmedUp;
    expect(logger.lines).toContain("warn could not measure decoding speed: context is gone");
    await sleep(50);
    expect(conn.frames.filter(isHeartbeat)).toEqual([]);
    expect(conn.socket.readyState).toBe(conn.socket.OPEN);
  });
});
