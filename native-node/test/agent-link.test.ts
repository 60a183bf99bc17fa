import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EchoEngine } from "@rung/shared/node";
import { newSecret, TunnelPath } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { AgentLink } from "../src/link/agent-link.ts";
import { ECHO_MODEL } from "./helpers/echo-models.ts";
import { memoryLogger } from "./helpers/memory-logger.ts";

/** An edge behind a proxy that refuses WebSocket upgrades (426), serving the tunnel endpoints over plain HTTP. */
async function upgradeRefusingEdge() {
  const paths: string[] = [];
  const upgrades: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? "");
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      const welcome = { nodeId: "node_fallback", secret: newSecret(), heartbeatIntervalMs: 50 };
      const path = new URL(request.url ?? "/", "http://edge").pathname;
      response.end(JSON.stringify(path === TunnelPath.register ? welcome : { ok: true }));
    });
  });
  server.on("upgrade", (request, socket) => {
    upgrades.push(request.url ?? "");
    // A refused client may reset the connection; that is its right, not a test failure.
    socket.on("error", () => {});
    socket.end("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { paths, upgrades, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("AgentLink", () => {
  it("falls back to the tunnel when a proxy refuses the upgrade", async () => {
    const edge = await upgradeRefusingEdge();
    const link = new AgentLink({
      edge: edge.url,
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "fallback", kind: "native" },
      logger: memoryLogger(),
      publicUrl: "http://127.0.0.1:9",
    });
    cleanups.push(() => link.close(), edge.close);
    await expect.poll(() => edge.paths).toContain(TunnelPath.register);
    // Joined through the tunnel is joined: what waits for it (the engine's warm-up) starts.
    await link.joined;
  });

  it("asks for the same pool over either transport", async () => {
    const edge = await upgradeRefusingEdge();
    const link = new AgentLink({
      edge: edge.url,
      pool: "lab",
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "fallback", kind: "native" },
      logger: memoryLogger(),
      publicUrl: "http://127.0.0.1:9",
    });
    cleanups.push(() => link.close(), edge.close);
    await expect.poll(() => edge.paths).toContain(`${TunnelPath.register}?pool=lab`);
    expect(edge.upgrades).toEqual(["/v1/nodes/connect?pool=lab"]);
  });

  it("starts no tunnel and registers nothing when closed while switching to it", async () => {
    const edge = await upgradeRefusingEdge();
    cleanups.push(edge.close);
    const tunnelPort = await freePort();
    const logger = memoryLogger();
    let closing: Promise<void> | undefined;
    const link: AgentLink = new AgentLink({
      edge: edge.url,
      engine: new EchoEngine({ models: [ECHO_MODEL] }),
      identity: { name: "fallback", kind: "native" },
      // The shutdown lands at the moment the link decides to switch transports.
      logger: {
        ...logger,
        warn: (message) => {
          logger.warn(message);
          if (message.includes("falling back to the tunnel")) closing = link.close();
        },
      },
      publicUrl: "http://127.0.0.1:9",
      tunnelPort,
    });
    expect(await link.ended).toEqual({ reason: "closed" });
    await closing;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(edge.paths).toEqual([]);
    const listening = await fetch(`http://127.0.0.1:${tunnelPort}/`).then(
      () => true,
      () => false,
    );
    expect(listening).toBe(false);
  });
});
