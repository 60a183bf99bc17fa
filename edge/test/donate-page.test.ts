import { SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { DONATE_CONNECT_PATH, donateConfigSchema, PROTOCOL_VERSION } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { cspOf, putPolicy, resetPolicy } from "./test-node.ts";

// The page comes from web-node/dist (`npm run build -w web-node`); its file names change with every build.
// Note: in the vitest pool SELF reaches the Worker directly, never the asset router, so these tests
// check what the Worker adds; wrangler.toml's run_worker_first is what sends /donate/* to it in production.

afterEach(() => resetPolicy());

async function config() {
  const response = await SELF.fetch("http://edge/donate/config");
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return donateConfigSchema.parse(await response.json());
}

describe("the donate page", () => {
  it("serves index.html cross-origin isolated, under a CSP, revalidated on every visit", async () => {
    const response = await SELF.fetch("https://edge.example/donate/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/<script type="module"[^>]* src="\/donate\/assets\//);
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const csp = cspOf(response);
    expect(csp.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp.get("worker-src")).toEqual(["'self'", "blob:"]);
    expect(csp.get("connect-src")).toEqual(["'self'", "wss://edge.example", "https:", "http://127.0.0.1:*", "http://localhost:*"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
  });

  it("gives the hashed files a year's immutable caching and keeps them to this origin", async () => {
    const html = await (await SELF.fetch("http://edge/donate/")).text();
    const script = /src="(\/donate\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const response = await SELF.fetch(`http://edge${script}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/javascript/);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    // A module worker takes its isolation from its own script's response.
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    await response.arrayBuffer();
  });

  it("leads /donate to the page, keeping the query", async () => {
    const response = await SELF.fetch("http://edge/donate?lang=en", { redirect: "manual" });
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe("/donate/?lang=en");
    const followed = await SELF.fetch("http://edge/donate");
    expect(followed.status).toBe(200);
    expect(await followed.text()).toMatch(/<html/);
  });

  it("answers a file it does not have with a 404 in OpenAI's shape, never cached for a year", async () => {
    const response = await SELF.fetch("http://edge/donate/assets/missing-0000.js");
    expect(response.status).toBe(404);
    expect(errorBodySchema.parse(await response.json()).error.code).toBe("unknown_url");
    expect(response.headers.get("cache-control")).toBeNull();
  });
});

describe("GET /donate/config", () => {
  it("reflects the default policy: open, offering no models yet", async () => {
    expect(await config()).toEqual({
      protocol: PROTOCOL_VERSION,
      connectPath: DONATE_CONNECT_PATH,
      accepting: true,
      ggufModels: [],
      webllmModels: [],
    });
  });

  it("reflects the operator's policy as soon as the admin route sets it", async () => {
    const ggufModels = [
      { id: "tiny-q8", url: "/models/tiny-q8.gguf", sizeBytes: 1_000_000 },
      { id: "small-f16", url: "https://models.example.com/small-f16.gguf", contextLength: 4096 },
    ];
    expect((await putPolicy({ donate: { ggufModels, webllmModels: ["Qwen2.5-0.5B-Instruct-q4f16_1-MLC"] } })).status).toBe(200);
    expect(await config()).toMatchObject({
      accepting: true,
      ggufModels: [{ ...ggufModels[0], contextLength: 2048 }, ggufModels[1]],
      webllmModels: ["Qwen2.5-0.5B-Instruct-q4f16_1-MLC"],
    });
    await putPolicy({ donate: { acceptPublicNodes: false } });
    expect(await config()).toMatchObject({ accepting: false, ggufModels: [] });
    await resetPolicy();
    expect((await config()).ggufModels).toEqual([]);
  });

  it("never takes a policy whose model a donor could not fetch safely, and names the field", async () => {
    await putPolicy({ donate: { ggufModels: [{ id: "ok", url: "/ok.gguf" }] } });
    const refused = await putPolicy({ donate: { ggufModels: [{ id: "bad", url: "http://models.example.com/bad.gguf" }] } });
    expect(refused.status).toBe(400);
    const error = errorBodySchema.parse(await refused.json()).error;
    expect(error.code).toBe("invalid_policy");
    expect(error.message).toMatch(/donate\.ggufModels\[0\]\.url: must be https/);
    // The old policy stays.
    expect((await config()).ggufModels.map((m) => m.id)).toEqual(["ok"]);
  });
});
