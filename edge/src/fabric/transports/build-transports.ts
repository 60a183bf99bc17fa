import { SocketTransport } from "./socket/socket-transport.ts";
import type { Transport, TransportContext } from "./transport.ts";
import { TunnelTransport } from "./tunnel/tunnel-transport.ts";
import { UpstreamTransport } from "./upstream/upstream-transport.ts";

/**
 * Every transport the pool reaches nodes through. The order is the order of
 * their nodes in the router's views. A new transport is a folder and a line here.
 */
export function buildTransports(context: TransportContext): Transport[] {
  return [new SocketTransport(context), new TunnelTransport(context), new UpstreamTransport(context)];
}
