// Whole on purpose: the tunnel link's tests share one signed test server and its helpers.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EchoEngine } from "@rung/shared/node";
import {
  edgeMessageSchema,
  type NodeMessage,
  NonceWindow,
  newSecret,
  nodeMessageSchema,
  parseFrame,
  signCall,
  TunnelPath,
  type TunnelWelcome,
  tunnelHeartbeatSchema,
  tunnelRegistrationSchema,
  verifyCall,
} from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startQuickTunnel } from "../src/tunnel/cloudflared.ts";
import { TunnelLink, type TunnelLinkOptions } from "../src/tunnel/tunnel-link.ts";
import { ECHO_MODEL } from "./helpers/echo-models.ts";
import { fakeCloudflared } from "./helpers/fake-cloudflared.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";
import { ProbingEngine } from "./helpers/probing-engine.ts";

/** The edge never calls it in these tests; the schema takes plain http only on loopback. */
const PLACEHOLDER_URL = "http://127.0.0.1:9";

/**
 * An edge's tunnel endpoints on loopback, issuing a secret the test knows. It
 * routes by path, keeps each call's query apart, and checks the signature of
 * heartbeats and leaves over the path alone, as a pool's Fabric does.
 */
async function fakeTunnelEdge(options: { heartbeatIntervalMs?: number; registerDelayMs?: number; pool?: string } = {}) {
  const welcome: TunnelWelcome = {
    nodeId: "node_tunnel",
    secret: newSecret(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 50,
    ...(options.pool !== undefined && { pool: options.pool }),
  };
  const calls: { path: string; query: string; authorization?: string; body: string; at: number; signed?: boolean }[] = [];
  const seen = new NonceWindow();
  const server: Server = createServer(async (request, response) => {
    const body = await textOf(request);
    const { pathname: path, search: query } = new URL(request.url ?? "/", "http://edge");
    const signed =
      path === TunnelPath.register
        ? undefined
        : (await verifyCall(welcome.secret, { method: "POST", path, body }, { get: (name) => request.headers[name] as string }, seen)).ok;
    calls.push({ path, query, authorization: request.headers.authorization, body, at: Date.now(), signed });
    if (path === TunnelPath.register && !tunnelRegistrationSchema.safeParse(JSON.parse(body)).success) {
      response.writeHead(400, { "content-type": "application/json" });
      return void response.end(JSON.stringify({ error: { message: "bad registration" } }));
    }
    if (path === TunnelPath.register && options.registerDelayMs)
      await new Promise((resolve) => setTimeout(resolve, options.registerDelayMs));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(path === TunnelPath.register ? welcome : { ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { welcome, calls, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function textOf(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => resolve(Buffer.concat(chunks).toString()));
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(
  options: { heartbeatIntervalMs?: number; registerDelayMs?: number; pool?: string; link?: Partial<TunnelLinkOptions> } = {},
) {
  const edge = await fakeTunnelEdge(options);
  const engine = new EchoEngine({ models: [ECHO_MODEL] });
  const logger = memoryLogger();
  // The node's own URL stands in for a tunnel's public one: the edge calls it directly.
  const link = new TunnelLink({
    edge: edge.url,
    token: "join",
    engine,
    identity: { name: "tunnelled", kind: "native" },
    publicUrl: PLACEHOLDER_URL,
    logger,
    ...options.link,
  });
  await link.start();
  cleanups.push(() => link.close(), edge.close);
  const deadline = Date.now() + 2_000;
  while (!link.nodeId && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return { edge, link, logger };
}

/** Resolves true when something accepts a connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function callJob(port: number, headers: Record<string, string>, body: string) {
  return fetch(`http://127.0.0.1:${port}${TunnelPath.jobs}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const job = (jobId: string) =>
  JSON.stringify(
    edgeMessageSchema.parse({
      type: "job",
      jobId,
      model: ECHO_MODEL.id,
      input: { kind: "completion", prompt: "one two three" },
      sampling: { maxTokens: 10, temperature: 0, topP: 1, stop: [] },
    }),
  );

describe("TunnelLink", () => {
  it("registers with the join token, then keeps the registration alive with signed heartbeats", async () => {
    const { edge, link } = await setup();
    expect(link.nodeId).toBe("node_tunnel");
    const registration = edge.calls.find((c) => c.path === TunnelPath.register);
    expect(registration?.authorization).toBe("Bearer join");
    expect(tunnelRegistrationSchema.parse(JSON.parse(registration!.body)).url).toBe(PLACEHOLDER_URL);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(edge.calls.filter((c) => c.path === TunnelPath.heartbeat).length).toBeGreaterThanOrEqual(2);
  });

  it("streams a signed job's frames back, and refuses and counts unsigned, forged, stale and replayed calls", async () => {
    const { edge, link } = await setup();
    const port = link.serverPort!;
    const body = job("job-1");
    const sign = (secret: string, at?: number) =>
      signCall(secret, edge.welcome.nodeId, { method: "POST", path: TunnelPath.jobs, body }, at);

    const good = await sign(edge.welcome.secret);
    const answer = await callJob(port, good, body);
    expect(answer.status).toBe(200);
    const frames = (await answer.text())
      .trim()
      .split("\n")
      .map((line) => {
        const parsed = parseFrame(nodeMessageSchema, line);
        if (!parsed.ok) throw new Error(parsed.error.message);
        return parsed.value;
      });
    expect(frames.map((f: NodeMessage) => f.type)).toEqual(["chunk", "chunk", "chunk", "done"]);

    expect((await callJob(port, good, body)).status).toBe(401);
    expect((await callJob(port, {}, body)).status).toBe(401);
    expect((await callJob(port, await sign(newSecret()), body)).status).toBe(401);
    expect((await callJob(port, await sign(edge.welcome.secret, Date.now() - 5 * 60_000), body)).status).toBe(401);
    expect(link.server.refusals).toEqual({ unsigned: 1, forged: 1, stale: 1, replayed: 1 });
  });

  it("leaves the edge when closed", async () => {
    const { edge, link } = await setup();
    await link.close();
    expect(edge.calls.at(-1)?.path).toBe(TunnelPath.leave);
  });
});

describe("TunnelLink pools", () => {
  it("registers in the pool it was given, then beats and leaves in the pool the welcome named, signed over the path", async () => {
    const { edge, link, logger } = await setup({ pool: "lab", link: { pool: "lab" } });
    expect(link.nodeId).toBe("node_tunnel");
    await expect.poll(() => edge.calls.filter((c) => c.path === TunnelPath.heartbeat).length).toBeGreaterThanOrEqual(1);
    await link.close();
    const calls = edge.calls.map(({ path, query, signed }) => ({ path, query, signed }));
    expect(calls[0]).toEqual({ path: TunnelPath.register, query: "?pool=lab", signed: undefined });
    expect(calls.slice(1, -1).every((c) => c.path === TunnelPath.heartbeat && c.query === "?pool=lab" && c.signed)).toBe(true);
    expect(calls.at(-1)).toEqual({ path: TunnelPath.leave, query: "?pool=lab", signed: true });
    expect(logger.lines).toContain("info joined as node_tunnel in pool lab through the tunnel");
  });

  it("follows the welcome's pool when it named none itself (the join token's)", async () => {
    const { edge, link } = await setup({ pool: "tokens-pool" });
    await link.close();
    expect(edge.calls.map((c) => `${c.path}${c.query}`)).toEqual([
      TunnelPath.register,
      ...edge.calls.slice(1, -1).map(() => `${TunnelPath.heartbeat}?pool=tokens-pool`),
      `${TunnelPath.leave}?pool=tokens-pool`,
    ]);
  });

  it("sends no query to an edge whose welcome names no pool, and says it ignored --pool", async () => {
    const { edge, link, logger } = await setup({ link: { pool: "lab" } });
    await expect.poll(() => edge.calls.filter((c) => c.path === TunnelPath.heartbeat).length).toBeGreaterThanOrEqual(1);
    await link.close();
    expect(edge.calls[0]?.query).toBe("?pool=lab");
    expect(edge.calls.slice(1).every((c) => c.query === "" && c.signed)).toBe(true);
    expect(logger.lines).toContain("warn this edge predates pools: it ignored --pool lab");
  });
});

describe("TunnelLink heartbeats", () => {
  const beats = (calls: { path: string; body: string }[]) =>
    calls.filter((c) => c.path === TunnelPath.heartbeat).map((c) => tunnelHeartbeatSchema.parse(JSON.parse(c.body)));

  it("carry the node's load report and whether it drains", async () => {
    const { edge } = await setup();
    await expect.poll(() => beats(edge.calls).length).toBeGreaterThanOrEqual(1);
    expect(beats(edge.calls)[0]).toEqual({
      nodeId: "node_tunnel",
      heartbeat: { type: "heartbeat", activeJobs: 0, models: [] },
      draining: false,
    });
  });

  it("beat at once, with draining set, when the session starts draining", async () => {
    const { edge, link } = await setup({ heartbeatIntervalMs: 60_000 });
    expect(link.nodeId).toBe("node_tunnel");
    const started = Date.now();
    void link.session.drain(1_000);
    await expect.poll(() => beats(edge.calls).length, { timeout: 1_000 }).toBe(1);
    expect(beats(edge.calls)[0]).toMatchObject({ nodeId: "node_tunnel", draining: true });
    expect(edge.calls.find((c) => c.path === TunnelPath.heartbeat)!.at - started).toBeLessThan(1_000);
  });

  it("beat at once with a speed the engine measured after registering", async () => {
    const engine = new ProbingEngine();
    const { edge, link } = await setup({ heartbeatIntervalMs: 60_000, link: { engine } });
    const registration = tunnelRegistrationSchema.parse(JSON.parse(edge.calls[0]!.body));
    expect(registration.hello.models[0]!.tokensPerSecond).toBe(0);
    engine.finishProbe(250);
    await engine.warmUp();
    link.heartbeatNow();
    await expect.poll(() => beats(edge.calls).length, { timeout: 1_000 }).toBe(1);
    expect(beats(edge.calls)[0]!.heartbeat?.models).toEqual([{ id: ECHO_MODEL.id, tokensPerSecond: 250 }]);
  });

  it("beat at once when the speed was measured while the registration was on its way", async () => {
    const engine = new ProbingEngine();
    const joined = setup({ heartbeatIntervalMs: 60_000, registerDelayMs: 200, link: { engine } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    engine.finishProbe(250);
    await engine.warmUp();
    const { edge } = await joined;
    await expect.poll(() => beats(edge.calls).length, { timeout: 1_000 }).toBe(1);
    expect(beats(edge.calls)[0]!.heartbeat?.models).toEqual([{ id: ECHO_MODEL.id, tokensPerSecond: 250 }]);
  });
});

describe("TunnelLink shutdown", () => {
  it("stops cloudflared and registers nothing when closed while cloudflared starts", async () => {
    const edge = await fakeTunnelEdge();
    cleanups.push(edge.close);
    const command = await fakeCloudflared("exec sleep 30");
    let exited: Promise<number | null> | undefined;
    let closing: Promise<void> | undefined;
    const link: TunnelLink = new TunnelLink({
      edge: edge.url,
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "tunnelled", kind: "native" },
      startTunnel: (port) => {
        const started = startQuickTunnel(port, { command });
        void started.then((tunnel) => (exited = tunnel.exited));
        // The agent's shutdown lands while cloudflared is still coming up.
        closing = link.close();
        return started;
      },
    });
    await link.start();
    await closing;
    expect(await link.ended).toEqual({ reason: "closed" });
    expect(await exited).toBeNull();
    expect(await listening(link.serverPort!)).toBe(false);
    await sleep(150);
    expect(edge.calls).toEqual([]);
  });

  it("leaves when a registration completes after close", async () => {
    const edge = await fakeTunnelEdge({ registerDelayMs: 200 });
    cleanups.push(edge.close);
    const link = new TunnelLink({
      edge: edge.url,
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "tunnelled", kind: "native" },
      publicUrl: PLACEHOLDER_URL,
    });
    await link.start();
    await expect.poll(() => edge.calls.length).toBe(1);
    await link.close();
    await expect.poll(() => edge.calls.map((c) => c.path)).toEqual([TunnelPath.register, TunnelPath.leave]);
    await sleep(150);
    expect(edge.calls.map((c) => c.path)).toEqual([TunnelPath.register, TunnelPath.leave]);
  });

  it("ends the link as fatal when cloudflared dies", async () => {
    const command = await fakeCloudflared("sleep 0.3; exit 3");
    const { link, logger } = await setup({ link: { publicUrl: undefined, startTunnel: (port) => startQuickTunnel(port, { command }) } });
    const end = await link.ended;
    expect(end).toMatchObject({
      reason: "fatal",
      error: { message: expect.stringMatching(/^cloudflared exited \(3\); /), retryable: false },
    });
    expect(logger.lines.some((l) => l.startsWith("error cloudflared exited (3)"))).toBe(true);
  });
});
