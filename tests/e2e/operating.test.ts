// The parser ships no types; the edge's tests declare the shape its README and source give.
/// <reference path="../../edge/test/unit/parse-prometheus-text-format.d.ts" />
import OpenAI from "openai";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentProcess } from "./harness/agent-process.ts";
import { type LocalFabric, rungOf, startFabric, testModel } from "./harness/fabric.ts";

/**
 * An edge run in public, as its operator runs it: closed (no key, no answer),
 * keys and join tokens made through the admin API, real agents joining with a
 * token, limits, revocation, usage and metrics read back, and a second pool
 * whose key reaches only its own agent. The client is the official `openai` package.
 */
const ADMIN_KEY = "operator-admin-key";
const METRICS_KEY = "prometheus-scraper-key";
const MODEL = "rung-tiny";
const HI = { model: MODEL, messages: [{ role: "user" as const, content: "hi" }], max_tokens: 4 };

interface CreatedKey {
  id: string;
  key: string;
}
interface CreatedJoinToken {
  id: string;
  pool: string;
  token: string;
}
interface UsageRow {
  pool: string;
  date: string;
  keyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

let fabric: LocalFabric;
let modelPath: string;
let mainToken: CreatedJoinToken;
/** The key of two requests a minute, refused once. */
let rpmKey: CreatedKey;
/** Agents started outside the fabric (another pool's, which need that pool's key to be seen joining). */
const ownAgents: AgentProcess[] = [];

beforeAll(async () => {
  modelPath = await testModel("tiny");
  fabric = await startFabric({
    vars: { RUNG_OPEN_EDGE: "false", RUNG_ADMIN_KEY: ADMIN_KEY, RUNG_METRICS_KEY: METRICS_KEY },
    // The harness watches agents join on /health, which names the main pool's nodes to the admin key.
    apiKey: ADMIN_KEY,
  });
  mainToken = await admin<CreatedJoinToken>("POST", "/join-tokens", { name: "main agents" });
});

afterAll(async () => {
  await Promise.all(ownAgents.map((agent) => agent.stop()));
  await fabric?.stop();
});

async function admin<T>(method: string, path: string, body?: object): Promise<T> {
  const response = await fetch(`${fabric.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    ...(body && { body: JSON.stringify(body) }),
  });
  const expected = method === "POST" ? 201 : 200;
  if (response.status !== expected) throw new Error(`${method} /admin${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const newKey = (body: object) => admin<CreatedKey>("POST", "/keys", body);
const clientOf = (key: string) => new OpenAI({ baseURL: `${fabric.url}/v1`, apiKey: key, maxRetries: 0 });

/** One sample of a scrape: its family's name, its labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${fabric.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
  expect(response.status).toBe(200);
  // Version 1.1.1 folds a labelled histogram's series into one: its lines are read as plain samples instead.
  const page = (await response.text())
    .split("\n")
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join("\n");
  return parsePrometheusTextFormat(page).flatMap((family) =>
    family.metrics.map((m) => ({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) })),
  );
}

/** The sum of a family's samples whose labels include these. */
function total(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe("an operator's edge", () => {
  it("turns away an agent without a join token, saying how to get one", async () => {
    const stranger = fabric.start({ name: "stranger", models: [modelPath] });
    expect(await stranger.exited).toBe(1);
    expect(stranger.output.join("")).toMatch(/HTTP 401.*takes no nodes without a join token.*POST \/admin\/join-tokens/);
  });

  it("takes an agent with a join token from the admin API, and serves a key of its pool", async () => {
    await fabric.join({ name: "owned", models: [modelPath], extraArgs: ["--token", mainToken.token] });
    const { key } = await newKey({ name: "first client" });
    const { data, response } = await clientOf(key).chat.completions.create(HI).withResponse();
    expect(data.model).toBe(MODEL);
    expect(response.headers.get("x-rung-node")).toBe("owned");
    expect(rungOf(data).tier).toBe("private");
    // Without a key, the closed edge answers nothing.
    await expect(clientOf("sk-none").chat.completions.create(HI)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("serves a key of two requests a minute twice, then raises RateLimitError with Retry-After", async () => {
    rpmKey = await newKey({ name: "rpm-2", rpm: 2 });
    const client = clientOf(rpmKey.key);
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const { response } = await client.chat.completions.create(HI).withResponse();
      remaining.push(response.headers.get("x-ratelimit-remaining-requests"));
    }
    expect(remaining).toEqual(["1", "0"]);
    const refused = await client.chat.completions.create(HI).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const { headers, code } = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(code).toBe("rate_limit_exceeded");
    expect(Number(headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(headers.get("x-ratelimit-limit-requests")).toBe("2");
  });

  it("refuses a revoked key at once", async () => {
    const { id, key } = await newKey({ name: "to revoke" });
    const client = clientOf(key);
    await client.chat.completions.create(HI);
    await admin("DELETE", `/keys/${id}`);
    await expect(client.chat.completions.create(HI)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("reports a key's usage as the requests and tokens its client was told", async () => {
    const { id, key } = await newKey({ name: "metered" });
    const client = clientOf(key);
    let promptTokens = 0;
    let completionTokens = 0;
    for (const content of ["hi", "tell me more"]) {
      const answer = await client.chat.completions.create({ ...HI, messages: [{ role: "user", content }] });
      promptTokens += answer.usage?.prompt_tokens ?? 0;
      completionTokens += answer.usage?.completion_tokens ?? 0;
    }
    expect(promptTokens).toBeGreaterThan(0);
    expect(completionTokens).toBeGreaterThan(0);
    const usage = await admin<{ object: string; data: UsageRow[] }>("GET", `/usage?key=${id}`);
    expect(usage.data).toEqual([
      expect.objectContaining({
        pool: "main",
        date: new Date().toISOString().slice(0, 10),
        keyId: id,
        model: MODEL,
        requests: 2,
        promptTokens,
        completionTokens,
      }),
    ]);
  });

  it("counts on /metrics the answers sent and the agent as a private native node", async () => {
    const unauthorized = await fetch(`${fabric.url}/metrics`);
    expect(unauthorized.status).toBe(401);
    const before = await scrape();
    const client = clientOf((await newKey({ name: "counted" })).key);
    const sent = 3;
    for (let i = 0; i < sent; i++) await client.chat.completions.create(HI);
    const after = await scrape();
    const answered = { pool: "main", model: MODEL, status: "200" };
    expect(total(after, "rung_requests_total", answered) - total(before, "rung_requests_total", answered)).toBe(sent);
    expect(total(after, "rung_nodes", { pool: "main" })).toBe(1);
    expect(after.filter((s) => s.name === "rung_nodes" && s.labels.pool === "main")).toEqual([
      { name: "rung_nodes", labels: expect.objectContaining({ pool: "main", tier: "private", kind: "native" }), value: 1 },
    ]);
    // The one refusal of the rpm-2 key above, counted by its key.
    expect(total(after, "rung_rate_limited_total", { pool: "main", key: rpmKey.id })).toBe(1);
    expect(total(after, "rung_rate_limited_total", { pool: "main" })).toBe(1);
  });

  it("keeps a second pool's prompts on that pool's agent", async () => {
    const teamToken = await admin<CreatedJoinToken>("POST", "/join-tokens", { pool: "team-b", name: "team b agents" });
    expect(teamToken.pool).toBe("team-b");
    const teamKey = await newKey({ name: "team b client", pool: "team-b" });
    const teamAgent = new AgentProcess({
      edge: fabric.url,
      name: "team-b-agent",
      models: [modelPath],
      // /health names a pool's nodes to a key of that pool.
      apiKey: teamKey.key,
      extraArgs: ["--token", teamToken.token],
    });
    ownAgents.push(teamAgent);
    await teamAgent.joined([MODEL]);

    const teamClient = clientOf(teamKey.key);
    const mainClient = clientOf((await newKey({ name: "main client" })).key);
    for (let i = 0; i < 2; i++) {
      const { data, response } = await teamClient.chat.completions.create(HI).withResponse();
      expect(response.headers.get("x-rung-node")).toBe("team-b-agent");
      expect(rungOf(data).node).toBe("team-b-agent");
      const main = await mainClient.chat.completions.create(HI).withResponse();
      expect(main.response.headers.get("x-rung-node")).toBe("owned");
    }
    const models = await teamClient.models.list();
    expect(models.data.map((m) => m.id)).toContain(MODEL);
  });

  it("answers the request after a 413 at once, whether the refused body declared its length or streamed it", async () => {
    const oversized = "a".repeat(70 * 1024);
    const declared = await fetch(`${fabric.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      body: oversized,
    });
    expect(declared.status).toBe(413);
    expect((await fetch(`${fabric.url}/health`, { signal: AbortSignal.timeout(3_000) })).status).toBe(200);
    const streamed = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("a".repeat(1024 * 1024)));
        controller.close();
      },
    });
    const { key } = await newKey({ name: "big bodies" });
    const chunked = await fetch(`${fabric.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: streamed,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await fetch(`${fabric.url}/health`, { signal: AbortSignal.timeout(3_000) })).status).toBe(200);
  });
});
