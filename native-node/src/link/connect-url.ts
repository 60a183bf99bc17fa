/** Where nodes dial in, relative to the edge's base URL. */
const CONNECT_PATH = "/v1/nodes/connect";

/**
 * The WebSocket URL for an edge base URL: `http://h:8787` -> `ws://h:8787/v1/nodes/connect`.
 * A path prefix is kept (an edge mounted under `/rung`). The token travels as
 * `?token=`, which the edge accepts from every kind of node.
 */
export function connectUrl(edge: string, token?: string): URL {
  const url = new URL(edge);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = url.pathname.replace(/\/+$/, "") + CONNECT_PATH;
  url.search = "";
  url.hash = "";
  if (token) url.searchParams.set("token", token);
  return url;
}

/** The URL as it may appear in logs: never with the join token. */
export function redactedUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
