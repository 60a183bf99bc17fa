import { env, SELF } from "cloudflare:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import app from "../src/index.ts";
import type { CreatedKey } from "../src/keys/key-record.ts";
import { closeNodesAndResetPolicy, large, small, twoRungs } from "./ladder-fixtures.ts";
import { chat, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

/** `name{labels}` → value, for every counter and gauge sample of a scrape (histograms read by their _count lines). */
async function scrape(headers: Record<string, string> = { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` }): Promise<Map<string, number>> {
  const response = await SELF.fetch("http://edge/metrics", { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  // The parser folds a labelled histogram's series into one: read its lines as plain samples instead.
  const page = (await response.text())
    .split("\n")
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join("\n");
  const samples = new Map<string, number>();
  for (const family of parsePrometheusTextFormat(page)) {
    for (const metric of family.metrics) samples.set(`${family.name}${JSON.stringify(metric.labels ?? {})}`, Number(metric.value));
  }
  return samples;
}

const at = (samples: Map<string, number>, name: string, labels: Record<string, string>) =>
  samples.get(`${name}${JSON.stringify(labels)}`) ?? 0;

describe("GET /metrics", () => {
  it("is closed without the metrics or admin key, and open to either", async () => {
    expect((await SELF.fetch("http://edge/metrics")).status).toBe(401);
    const withMetricsKey = await app.request(
      "/metrics",
      { headers: { authorization: "Bearer scraper" } },
      { ...env, RUNG_METRICS_KEY: "scraper" },
    );
    expect(withMetricsKey.status).toBe(200);
  });

  it("counts requests, tokens, escalations, rate limits and nodes as they happen", async () => {
    const before = await scrape();
    const { little, big } = await twoRungs();
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["unsure"], 0.1);
    big.answer(await big.next("job"), ["sure", " answer"]);
    expect((await pending).status).toBe(200);

    const made = await SELF.fetch("http://edge/admin/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` },
      body: JSON.stringify({ name: "metrics-rpm-1", rpm: 1 }),
    });
    const { key, id } = (await made.json()) as CreatedKey;
    const first = chat({ model: small.id }, { authorization: `Bearer ${key}` });
    little.answer(await little.next("job"), ["ok"]);
    expect((await first).status).toBe(200);
    expect((await chat({ model: small.id }, { authorization: `Bearer ${key}` })).status).toBe(429);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => at(after, name, labels) - at(before, name, labels);
    expect(delta("rung_requests_total", { pool: "main", model: large.id, status: "200" })).toBe(1);
    expect(delta("rung_requests_total", { pool: "main", model: small.id, status: "200" })).toBe(1);
    // The test node reports 5 prompt tokens and one completion token per piece.
    expect(delta("rung_tokens_total", { pool: "main", model: large.id, direction: "completion" })).toBe(2);
    expect(delta("rung_escalations_total", { pool: "main", reason: "low_confidence" })).toBe(1);
    expect(delta("rung_rate_limited_total", { pool: "main", key: id })).toBe(1);
    expect(delta("rung_requests_total", { pool: "main", model: small.id, status: "429" })).toBe(1);
    expect(delta("rung_request_duration_seconds_count", { pool: "main", model: large.id })).toBe(1);
    expect(at(after, "rung_nodes", { pool: "main", tier: "private", kind: "native", engine: "echo" })).toBe(2);
    expect(at(after, "rung_queue_depth", { pool: "main" })).toBe(0);
    await TestNode.closeAll();
  });
});
