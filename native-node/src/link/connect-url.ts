/** Where nodes dial in, relative to the edge's base URL. */
const CONNECT_PATH = "/v1/nodes/connect";

/**
 * The WebSocket URL for an edge base URL: `http://h:8787` -> `ws://h:8787/v1/nodes/connect`.
 * A path prefix is kept (an edge mounted under `/rung`). The join token travels
 * in the `Authorization` header (see `connectHeaders`), never in the URL, so it
 * stays out of access logs.
 */
export function connectUrl(edge: string): URL {
  const url = new URL(edge);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = url.pathname.replace(/\/+$/, "") + CONNECT_PATH;
  url.search = "";
  url.hash = "";
  return url;
}

export function connectHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
