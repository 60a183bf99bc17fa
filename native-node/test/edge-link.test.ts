import { setTimeout as sleep } from "node:timers/promises";
import { EchoEngine, type InferenceEngine } from "@rung/shared/node";
import {
  type Chunk,
  type Done,
  type Heartbeat,
  type Hello,
  type Job,
  type JobError,
  type NodeMessage,
  PROTOCOL_VERSION,
  WireErrorCode,
} from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { EdgeLink, type EdgeLinkOptions } from "../src/link/edge-link.ts";
import { ECHO_MODEL } from "./helpers/echo-models.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";

const isHello = (f: NodeMessage): f is Hello => f.type === "hello";
const isDone = (f: NodeMessage): f is Done => f.type === "done";
const isJobError = (f: NodeMessage): f is JobError => f.type === "job-error";
const isChunk = (f: NodeMessage): f is Chunk => f.type === "chunk";

/** Short waits so reconnect paths run in milliseconds. */
const FAST_BACKOFF = { baseDelayMs: 40, maxDelayMs: 100, minDelayMs: 20 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  options: { token?: string; refuseUpgradesWith?: number; engine?: InferenceEngine; link?: Partial<EdgeLinkOptions> } = {},
) {
  const edge = await FakeEdge.start({ token: options.token, refuseUpgradesWith: options.refuseUpgradesWith });
  const logger = memoryLogger();
  const link = new EdgeLink({
    edge: edge.url,
    token: options.token,
    engine: options.engine ?? new EchoEngine({ models: [ECHO_MODEL], slots: 2 }),
    identity: { name: "test-node", kind: "native" },
    logger,
    backoff: FAST_BACKOFF,
    ...options.link,
  });
  cleanups.push(
    () => edge.stop(),
    () => link.close(),
  );
  link.start();
  return { edge, link, logger };
}

const job = (jobId: string, content: string): Job => ({
  type: "job",
  jobId,
  model: ECHO_MODEL.id,
  input: { kind: "chat", messages: [{ role: "user", content }] },
  sampling: { temperature: 0, topP: 1, stop: [] },
});

describe("EdgeLink", () => {
  it("joins with hello, runs a job and streams numbered chunks then done", async () => {
    const { edge, link, logger } = await setup({ token: "s3cret" });
    const conn = await edge.connection(0);
    expect(conn.request.headers.authorization).toBe("Bearer s3cret");
    expect(conn.request.url).not.toMatch(/s3cret/);

    const hello = await conn.waitFor(isHello);
    expect(hello).toMatchObject({
      protocol: PROTOCOL_VERSION,
      node: { name: "test-node", kind: "native", engine: "echo", slots: 2 },
      models: [ECHO_MODEL],
    });
    conn.send({ type: "welcome", nodeId: "node_abc", protocol: PROTOCOL_VERSION });
    await expect.poll(() => link.nodeId).toBe("node_abc");
    expect(logger.lines).toContain(`info joined as node_abc (protocol ${PROTOCOL_VERSION})`);

    conn.send(job("j1", "one two three"));
    const done = await conn.waitFor(isDone);
    // The echo engine's pieces come all at once, so an edge of this version gets them in one frame.
    expect(conn.frames.filter(isChunk)).toEqual([
      { type: "chunk", jobId: "j1", seq: 0, text: "one two three", confidence: 0.9, confidences: [0.9, 0.9, 0.9] },
    ]);
    expect(done).toMatchObject({ jobId: "j1", chunks: 1, finishReason: "stop", usage: { completionTokens: 3 } });
    expect(conn.badFrames).toEqual([]);
  });

  it("ignores frames it cannot parse and keeps serving", async () => {
    const { edge, logger } = await setup();
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    conn.socket.send("not json");
    conn.socket.send(JSON.stringify({ type: "job", jobId: "" }));
    conn.send(job("j2", "still here"));
    await conn.waitFor(isDone);
    expect(logger.lines.filter((l) => l.startsWith("warn ignoring a frame"))).toHaveLength(2);
  });

  it("passes cancel frames to the session", async () => {
    const engine = new EchoEngine({ models: [ECHO_MODEL], slots: 1, pieceDelayMs: 50 });
    const { edge } = await setup({ engine });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    conn.send(job("j3", "a b c d e f g h i j k l"));
    await conn.waitFor(isChunk);
    conn.send({ type: "cancel", jobId: "j3" });
    const error = await conn.waitFor(isJobError);
    expect(error.error).toMatchObject({ code: WireErrorCode.cancelled, retryable: false });
  });

  it("reconnects after the edge drops the socket, aborting the jobs it held", async () => {
    const engine = new EchoEngine({ models: [ECHO_MODEL], slots: 1, pieceDelayMs: 100 });
    const { edge, link } = await setup({ engine });
    const first = await edge.connection(0);
    await first.waitFor(isHello);
    first.send(job("j4", "a b c d e f g h i j k l m n o p"));
    await first.waitFor(isChunk);
    expect(link.session.activeJobs).toBe(1);

    first.socket.terminate();
    const second = await edge.connection(1);
    await second.waitFor(isHello);
    await expect.poll(() => link.session.activeJobs).toBe(0);
    // The aborted job's frames belonged to the old socket: nothing about it reaches the new one.
    second.send(job("j5", "fresh job"));
    await second.waitFor(isDone);
    expect(second.frames.some((f) => "jobId" in f && f.jobId === "j4")).toBe(false);
  });

  it("gives up on WebSockets when a proxy refuses the upgrade, if allowed to", async () => {
    const { link, logger } = await setup({ refuseUpgradesWith: 426, link: { giveUpWhenUnusable: true } });
    expect(await link.ended).toEqual({ reason: "unusable", why: "the upgrade was refused with HTTP 426" });
    expect(logger.lines.some((l) => l.includes("refused (HTTP 426"))).toBe(true);
  });

  it.each([400, 405, 200])("counts HTTP %i to the upgrade as a proxy refusing WebSockets", async (status) => {
    const { link } = await setup({ refuseUpgradesWith: status, link: { giveUpWhenUnusable: true } });
    expect(await link.ended).toEqual({ reason: "unusable", why: `the upgrade was refused with HTTP ${status}` });
  });

  it.each([503, 502, 429])("keeps retrying an upgrade answered with HTTP %i: a deploy or overload passes", async (status) => {
    const { edge, link, logger } = await setup({ refuseUpgradesWith: status, link: { giveUpWhenUnusable: true } });
    const settled = await Promise.race([link.ended, sleep(300).then(() => "still trying")]);
    expect(settled).toBe("still trying");
    expect(logger.lines.filter((l) => l.includes(`HTTP ${status}`)).length).toBeGreaterThanOrEqual(2);
    expect(edge.connections).toHaveLength(0);
  });

  it("gives up on WebSockets that keep dropping, if allowed to", async () => {
    const { edge, link } = await setup({ link: { giveUpWhenUnusable: true } });
    for (let i = 0; i < 3; i++) {
      const connection = await edge.connection(i);
      await connection.waitFor(isHello);
      connection.send({ type: "welcome", nodeId: `node_${i}`, protocol: "1.1" });
      await expect.poll(() => link.nodeId).toBe(`node_${i}`);
      connection.socket.terminate();
    }
    expect(await link.ended).toMatchObject({ reason: "unusable" });
  });

  it("keeps retrying refused upgrades when WebSockets are the only transport", async () => {
    const { link } = await setup({ refuseUpgradesWith: 426 });
    const settled = await Promise.race([link.ended, new Promise((resolve) => setTimeout(() => resolve("still trying"), 300))]);
    expect(settled).toBe("still trying");
  });

  it("keeps retrying while the edge is unreachable", async () => {
    const edge = await FakeEdge.start();
    const url = edge.url;
    await edge.stop();
    const logger = memoryLogger();
    const link = new EdgeLink({
      edge: url,
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "test-node", kind: "native" },
      logger,
      backoff: FAST_BACKOFF,
    });
    cleanups.push(() => link.close());
    link.start();
    await expect.poll(() => logger.lines.filter((l) => l.includes("retrying in")).length).toBeGreaterThanOrEqual(3);
  });

  it("stops for good on a fatal error frame", async () => {
    const { edge, link, logger } = await setup();
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    const message = "This edge speaks protocol 2.0; the node speaks 1.0.";
    conn.send({
      type: "error",
      error: { code: WireErrorCode.protocolVersionUnsupported, message, retryable: false },
      fatal: true,
    });
    conn.socket.close(1008, "protocol version unsupported");

    const end = await link.ended;
    expect(end).toEqual({ reason: "fatal", error: { code: WireErrorCode.protocolVersionUnsupported, message, retryable: false } });
    expect(logger.lines.some((l) => l.startsWith("error") && l.includes(message))).toBe(true);
    await sleep(FAST_BACKOFF.maxDelayMs * 3);
    expect(edge.connections).toHaveLength(1);
  });

  it("stops for good when the edge refuses the join token", async () => {
    const { edge, link, logger } = await setup({ token: "s3cret", link: { token: "wrong" } });
    const end = await link.ended;
    expect(end).toMatchObject({ reason: "fatal", error: { code: WireErrorCode.unauthorized } });
    expect(logger.lines.some((l) => l.includes("HTTP 401, a join token given") && l.includes("Invalid node token."))).toBe(true);
    await sleep(FAST_BACKOFF.maxDelayMs * 3);
    expect(edge.connections).toHaveLength(0);
  });

  it("sends keep-alive pings and drains through the socket", async () => {
    const { edge, link } = await setup({ link: { pingIntervalMs: 30 } });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    let pings = 0;
    conn.socket.on("message", (data) => {
      if (data.toString() === '{"type":"ping"}') pings += 1;
    });
    await expect.poll(() => pings).toBeGreaterThanOrEqual(2);
    await link.session.drain(1_000);
    await conn.waitFor((f): f is { type: "draining" } => f.type === "draining");
    expect(link.connected).toBe(true);
  });
});

describe("EdgeLink heartbeats", () => {
  const isHeartbeat = (f: NodeMessage): f is Heartbeat => f.type === "heartbeat";

  it("sends heartbeats with load and the speed measured from real jobs once joined", async () => {
    const engine = new EchoEngine({ models: [ECHO_MODEL], slots: 2, pieceDelayMs: 5 });
    const { edge } = await setup({ engine, link: { heartbeatIntervalMs: 30 } });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    await sleep(100);
    // Not joined yet: the edge's protocol version is unknown, so nothing was sent.
    expect(conn.frames.filter(isHeartbeat)).toHaveLength(0);

    conn.send({ type: "welcome", nodeId: "node_hb", protocol: PROTOCOL_VERSION });
    expect(await conn.waitFor(isHeartbeat)).toEqual({ type: "heartbeat", activeJobs: 0, models: [] });

    conn.send(job("j1", "one two three four five six"));
    await conn.waitFor(isDone);
    const measured = await conn.waitFor((f): f is Heartbeat => isHeartbeat(f) && f.models.length > 0);
    expect(measured.models).toEqual([{ id: ECHO_MODEL.id, tokensPerSecond: expect.any(Number) }]);
    expect(measured.models[0]!.tokensPerSecond).toBeGreaterThan(0);
    expect(conn.badFrames).toEqual([]);
  });

  it("sends none to a 1.0 edge, which would count them as bad frames", async () => {
    const { edge } = await setup({ link: { heartbeatIntervalMs: 20 } });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    conn.send({ type: "welcome", nodeId: "node_old", protocol: "1.0" });
    await sleep(150);
    expect(conn.frames.filter(isHeartbeat)).toHaveLength(0);
  });
});

describe("EdgeLink pools", () => {
  it("names the pool it joins in the connect URL, and nothing without one", async () => {
    const pooled = await setup({ link: { pool: "lab" } });
    expect((await pooled.edge.connection(0)).request.url).toBe("/v1/nodes/connect?pool=lab");
    const plain = await setup();
    expect((await plain.edge.connection(0)).request.url).toBe("/v1/nodes/connect");
  });

  it("warns when an edge older than pools ignored the pool it asked for", async () => {
    const { edge, link, logger } = await setup({ link: { pool: "lab" } });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    conn.send({ type: "welcome", nodeId: "node_old", protocol: "1.4" });
    await expect.poll(() => link.nodeId).toBe("node_old");
    expect(logger.lines).toContain("warn this edge predates pools (protocol 1.4): it ignored --pool lab");
  });

  it("says nothing more to an edge that takes pools", async () => {
    const { edge, link, logger } = await setup({ link: { pool: "lab" } });
    const conn = await edge.connection(0);
    await conn.waitFor(isHello);
    conn.send({ type: "welcome", nodeId: "node_new", protocol: PROTOCOL_VERSION });
    await expect.poll(() => link.nodeId).toBe("node_new");
    expect(logger.lines.filter((l) => l.startsWith("warn"))).toEqual([]);
  });
});
