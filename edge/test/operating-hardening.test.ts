import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { expectError } from "./operating-fixtures.ts";
import { chat, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

describe("hardening", () => {
  it("lets only the origins the policy lists call the API from a browser, answers included", async () => {
    await putPolicy({ cors: { allowedOrigins: ["https://app.example.com"] } });
    const preflight = await SELF.fetch("http://edge/v1/chat/completions", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);

    const node = await TestNode.join("worker", [small]);
    const pending = chat({ model: small.id }, { origin: "https://app.example.com" });
    node.answer(await node.next("job"), ["ok"]);
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/x-rung-model/);
    expect(answer.headers.get("vary")).toMatch(/origin/i);

    // A client that is not a browser sends no Origin and gets no CORS headers: nothing to copy the answer for.
    const fromServer = chat({ model: small.id });
    node.answer(await node.next("job"), ["ok"]);
    const plain = await fromServer;
    expect(plain.status).toBe(200);
    expect(plain.headers.get("access-control-expose-headers")).toBeNull();
    expect(plain.headers.get("x-request-id")).toMatch(/^req_/);

    const stranger = await SELF.fetch("http://edge/v1/models", { headers: { origin: "https://evil.example" } });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    expect((await putPolicy({ cors: { allowedOrigins: ["https://app.example.com/path"] } })).status).toBe(400);
  });

  it("refuses a body over the limit with 413 in OpenAI's shape, declared or chunked", async () => {
    const big = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] });
    await expectError(await chat({ messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }), 413, "body_too_large");
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await SELF.fetch("http://edge/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked,
    });
    await expectError(response, 413, "body_too_large");
  });
});
