import { retryDelayMs } from "@rung/shared/routing";
import { describe, expect, it } from "vitest";
import { connectHeaders, connectUrl, edgeHttpUrl } from "../src/link/connect-url.ts";
import { RECONNECT_BACKOFF } from "../src/link/reconnect-backoff.ts";

describe("connectUrl", () => {
  it("turns the edge base URL into the node socket URL, keeping a path prefix and dropping any query", () => {
    expect(connectUrl("http://127.0.0.1:8787").href).toBe("ws://127.0.0.1:8787/v1/nodes/connect");
    expect(connectUrl("https://edge.example/rung/?x=1#y").href).toBe("wss://edge.example/rung/v1/nodes/connect");
  });

  it("maps the same base URL, ws(s):// or http(s)://, to the edge's HTTP endpoints", () => {
    expect(edgeHttpUrl("http://127.0.0.1:8787", "/health")).toBe("http://127.0.0.1:8787/health");
    expect(edgeHttpUrl("wss://edge.example/rung/?x=1#y", "/v1/nodes/tunnel/register")).toBe(
      "https://edge.example/rung/v1/nodes/tunnel/register",
    );
    expect(edgeHttpUrl("ws://127.0.0.1:8787", "/health")).toBe("http://127.0.0.1:8787/health");
  });

  it("names the pool to join as ?pool=, on the socket URL and the tunnel calls, and nothing without one", () => {
    expect(connectUrl("http://127.0.0.1:8787", "lab").href).toBe("ws://127.0.0.1:8787/v1/nodes/connect?pool=lab");
    expect(connectUrl("https://edge.example/rung/?pool=other#y", "gpu-2").href).toBe("wss://edge.example/rung/v1/nodes/connect?pool=gpu-2");
    expect(connectUrl("https://edge.example/rung/?pool=other", undefined).href).toBe("wss://edge.example/rung/v1/nodes/connect");
    expect(connectUrl("http://127.0.0.1:8787", "main").href).toBe("ws://127.0.0.1:8787/v1/nodes/connect?pool=main");
    expect(edgeHttpUrl("wss://edge.example/rung", "/v1/nodes/tunnel/register", "lab")).toBe(
      "https://edge.example/rung/v1/nodes/tunnel/register?pool=lab",
    );
    expect(edgeHttpUrl("http://127.0.0.1:8787", "/v1/nodes/tunnel/heartbeat", undefined)).toBe(
      "http://127.0.0.1:8787/v1/nodes/tunnel/heartbeat",
    );
  });

  it("sends the join token as a bearer header, and nothing without one", () => {
    expect(connectHeaders("s3cret")).toEqual({ authorization: "Bearer s3cret" });
    expect(connectHeaders(undefined)).toEqual({});
  });
});

describe("RECONNECT_BACKOFF", () => {
  it("grows a random ceiling from 0.5 s to 30 s, never below 0.5 s", () => {
    const ceiling = (attempt: number) => retryDelayMs(attempt, RECONNECT_BACKOFF, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(ceiling)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(retryDelayMs(10, RECONNECT_BACKOFF, () => 0)).toBe(500);
    expect(retryDelayMs(10, RECONNECT_BACKOFF, () => 0.5)).toBe(15_000);
  });
});
