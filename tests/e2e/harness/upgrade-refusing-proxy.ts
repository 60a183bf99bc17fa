import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RefusingProxy {
  url: string;
  /** Upgrade requests it turned away. */
  refusedUpgrades: number;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the edge that forwards plain requests but
 * refuses every WebSocket upgrade, like a corporate proxy that strips
 * `Upgrade`: a node behind it can reach the edge only over plain HTTPS.
 */
export async function startUpgradeRefusingProxy(target: string): Promise<RefusingProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forward.on("error", () => outgoing.destroy());
    incoming.pipe(forward);
  });
  const proxy: RefusingProxy = {
    url: "",
    refusedUpgrades: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  server.on("upgrade", (_request, socket) => {
    // A refused client may reset the connection; that is its right, not a proxy failure.
    socket.on("error", () => {});
    proxy.refusedUpgrades += 1;
    const body = "WebSocket upgrades are not allowed through this proxy";
    socket.end(
      `HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/**
 * Ports below Linux's ephemeral range (32768 and up), from which the kernel hands out
 * both `listen(0)` ports and the local ports of outgoing connections: a port found
 * there could be taken by another test's connection before its process binds it.
 */
const FIXED_PORTS = { from: 20_000, to: 32_000 };

/** A port that was free a moment ago, for a process that must be told its port up front. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = FIXED_PORTS.from + Math.floor(Math.random() * (FIXED_PORTS.to - FIXED_PORTS.from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${FIXED_PORTS.from} and ${FIXED_PORTS.to}`);
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
