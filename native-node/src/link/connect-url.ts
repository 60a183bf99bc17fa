import { poolQuery } from "@rung/shared/protocol";

/** Where nodes dial in, relative to the edge's base URL. */
const CONNECT_PATH = "/v1/nodes/connect";

/**
 * The WebSocket URL for an edge base URL: `http://h:8787` -> `ws://h:8787/v1/nodes/connect`,
 * with `?pool=<pool>` when the node names the pool it joins (without one the edge
 * picks the pool its join token names). A path prefix is kept (an edge mounted
 * under `/rung`); a query or fragment in `--edge` is dropped. The join token
 * travels in the `Authorization` header (see `connectHeaders`), never in the URL,
 * so it stays out of access logs.
 */
export function connectUrl(edge: string, pool?: string): URL {
  return edgeUrl(edge, CONNECT_PATH, { "http:": "ws:", "https:": "wss:" }, pool);
}

/**
 * The HTTP URL of `path` on an edge given the way `--edge` takes it (http(s)://
 * or ws(s)://): `ws://h:8787/rung` + `/health` -> `http://h:8787/rung/health`;
 * `?pool=<pool>` when a pool is given (the tunnel calls).
 */
export function edgeHttpUrl(edge: string, path: string, pool?: string): string {
  return edgeUrl(edge, path, { "ws:": "http:", "wss:": "https:" }, pool).href;
}

export function connectHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function edgeUrl(edge: string, path: string, protocols: Record<string, string>, pool: string | undefined): URL {
  const url = new URL(edge);
  const protocol = protocols[url.protocol];
  if (protocol) url.protocol = protocol;
  url.pathname = url.pathname.replace(/\/+$/, "") + path;
  url.search = poolQuery(pool);
  url.hash = "";
  return url;
}
