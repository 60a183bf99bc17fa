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

/** A port that was free a moment ago, for a process that must be told its port up front. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
