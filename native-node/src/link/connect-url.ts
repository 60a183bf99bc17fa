/** Where nodes dial in, relative to the edge's base URL. */
const CONNECT_PATH = "/v1/nodes/connect";

/**
 * The WebSocket URL for an edge base URL: `http://h:8787` -> `ws://h:8787/v1/nodes/connect`.
 * A path prefix is kept (an edge mounted under `/rung`). The join token travels
 * in the `Authorization` header (see `connectHeaders`), never in the URL, so it
 * stays out of access logs.
 */
export function connectUrl(edge: string): URL {
  return edgeUrl(edge, CONNECT_PATH, { "http:": "ws:", "https:": "wss:" });
}

/**
 * The HTTP URL of `path` on an edge given the way `--edge` takes it (http(s)://
 * or ws(s)://): `ws://h:8787/rung` + `/health` -> `http://h:8787/rung/health`.
 */
export function edgeHttpUrl(edge: string, path: string): string {
  return edgeUrl(edge, path, { "ws:": "http:", "wss:": "https:" }).href;
}

export function connectHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function edgeUrl(edge: string, path: string, protocols: Record<string, string>): URL {
  const url = new URL(edge);
  const protocol = protocols[url.protocol];
  if (protocol) url.protocol = protocol;
  url.pathname = url.pathname.replace(/\/+$/, "") + path;
  url.search = "";
  url.hash = "";
  return url;
}
