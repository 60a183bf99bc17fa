import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EchoEngine } from "@rung/shared/node";
import {
  TunnelPath,
  edgeMessageSchema,
  newSecret,
  nodeMessageSchema,
  parseFrame,
  signCall,
  tunnelRegistrationSchema,
  type NodeMessage,
  type TunnelWelcome,
} from "@rung/shared/protocol";
import { TunnelLink } from "../src/tunnel/tunnel-link.ts";
import { ECHO_MODEL } from "./helpers/echo-models.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";

/** An edge's tunnel endpoints on loopback, issuing a secret the test knows. */
async function fakeTunnelEdge() {
  const welcome: TunnelWelcome = { nodeId: "node_tunnel", secret: newSecret(), heartbeatIntervalMs: 50 };
  const calls: { path: string; authorization?: string; body: string }[] = [];
  const server: Server = createServer(async (request, response) => {
    const body = await textOf(request);
    calls.push({ path: request.url ?? "", authorization: request.headers.authorization, body });
    if (request.url === TunnelPath.register) tunnelRegistrationSchema.parse(JSON.parse(body));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(request.url === TunnelPath.register ? welcome : { ok: true }));
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

async function setup() {
  const edge = await fakeTunnelEdge();
  const engine = new EchoEngine({ models: [ECHO_MODEL] });
  const logger = memoryLogger();
  // The node's own URL stands in for a tunnel's public one: the edge calls it directly.
  const link = new TunnelLink({ edge: edge.url, token: "join", engine, identity: { name: "tunnelled", kind: "native" }, publicUrl: "http://placeholder.invalid", logger });
  await link.start();
  cleanups.push(() => link.close(), edge.close);
  const deadline = Date.now() + 2_000;
  while (!link.nodeId && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return { edge, link, logger };
}

async function callJob(port: number, headers: Record<string, string>, body: string) {
  return fetch(`http://127.0.0.1:${port}${TunnelPath.jobs}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
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
    expect(tunnelRegistrationSchema.parse(JSON.parse(registration!.body)).url).toBe("http://placeholder.invalid");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(edge.calls.filter((c) => c.path === TunnelPath.heartbeat).length).toBeGreaterThanOrEqual(2);
  });

  it("streams a signed job's frames back, and refuses and counts unsigned, forged, stale and replayed calls", async () => {
    const { edge, link } = await setup();
    const port = link.serverPort!;
    const body = job("job-1");
    const sign = (secret: string, at?: number) => signCall(secret, edge.welcome.nodeId, { method: "POST", path: TunnelPath.jobs, body }, at);

    const good = await sign(edge.welcome.secret);
    const answer = await callJob(port, good, body);
    expect(answer.status).toBe(200);
    const frames = (await answer.text()).trim().split("\n").map((line) => {
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
