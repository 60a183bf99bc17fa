import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { FabricMetrics, type LiveState } from "../../src/fabric/fabric-metrics.ts";
import { Histogram, LLM_SECONDS_BUCKETS, mergeFamilies, renderPrometheus } from "../../src/metrics/index.ts";

/**
 * Pages read back with a real Prometheus text parser. Version 1.1.1 folds the
 * series of a labelled histogram into one and drops their _sum and _count, so
 * for those `samplesOf` reads the page with its histogram TYPE lines taken
 * out: every `_bucket`, `_sum` and `_count` line is then a sample of its own.
 */
interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samplesOf(page: string): ParsedSample[] {
  const untyped = page
    .split("\n")
    .filter((line) => !/^# TYPE \S+ histogram$/.test(line))
    .join("\n");
  return parsePrometheusTextFormat(untyped).flatMap((family) =>
    family.metrics.map((m) => ({ name: family.name, labels: m.labels ?? {}, value: Number(m.value) })),
  );
}

function sampleValue(samples: ParsedSample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

const live = (queueDepth: number): LiveState => ({
  queueDepth,
  breakers: [{ node: "n1", model: "small", open: true }],
  nodes: [{ tier: "private", kind: "agent", engine: "llama-cpp" }],
});

/** Two pools' objects, scraped and merged as the Worker does. */
function scrapedPage(): string {
  const main = new FabricMetrics();
  main.requestEnded({
    model: "auto",
    status: 200,
    totalMs: 800,
    firstTokenMs: 200,
    nodeMs: 790,
    promptTokens: 12,
    completionTokens: 30,
    attempts: [],
  });
  main.requestEnded({
    model: "auto",
    status: 200,
    totalMs: 3000,
    firstTokenMs: 2000,
    nodeMs: 2950,
    promptTokens: 8,
    completionTokens: 2,
    attempts: [],
  });
  main.requestEnded({
    model: "auto",
    status: 504,
    totalMs: 130_000,
    promptTokens: 5,
    completionTokens: 0,
    attempts: [
      { outcome: "escalated", reason: "not JSON: Unexpected token" },
      { outcome: "timeout", reason: "no token" },
      { outcome: "timeout", reason: "no answer" },
    ],
  });
  const team = new FabricMetrics();
  team.requestEnded({ model: 'we"ird\\mo\ndel', status: 200, totalMs: 40, promptTokens: 1, completionTokens: 1, attempts: [] });
  team.rateLimited("key_abc");
  return renderPrometheus(mergeFamilies([main.families("main", live(2)), team.families("team", live(0))]));
}

describe("a rendered page, read by a Prometheus text parser", () => {
  it("has every family with its TYPE and HELP", () => {
    const parsed = parsePrometheusTextFormat(scrapedPage());
    const types = Object.fromEntries(parsed.map((f) => [f.name, f.type]));
    expect(types).toEqual({
      rung_breaker_open: "GAUGE",
      rung_edge_overhead_seconds: "HISTOGRAM",
      rung_escalations_total: "COUNTER",
      rung_hedges_total: "COUNTER",
      rung_nodes: "GAUGE",
      rung_queue_depth: "GAUGE",
      rung_rate_limited_total: "COUNTER",
      rung_request_duration_seconds: "HISTOGRAM",
      rung_requests_total: "COUNTER",
      rung_retries_total: "COUNTER",
      rung_time_to_first_token_seconds: "HISTOGRAM",
      rung_tokens_total: "COUNTER",
    });
    for (const family of parsed) expect(family.help.length).toBeGreaterThan(10);
  });

  it("reads back the counters and gauges of both pools", () => {
    const samples = samplesOf(scrapedPage());
    expect(sampleValue(samples, "rung_requests_total", { pool: "main", model: "auto", status: "200" })).toBe(2);
    expect(sampleValue(samples, "rung_requests_total", { pool: "main", model: "auto", status: "504" })).toBe(1);
    expect(sampleValue(samples, "rung_tokens_total", { pool: "main", model: "auto", direction: "prompt" })).toBe(25);
    expect(sampleValue(samples, "rung_tokens_total", { pool: "main", model: "auto", direction: "completion" })).toBe(32);
    expect(sampleValue(samples, "rung_escalations_total", { pool: "main", reason: "invalid_json" })).toBe(1);
    expect(sampleValue(samples, "rung_escalations_total", { pool: "team", reason: "invalid_json" })).toBe(0);
    expect(sampleValue(samples, "rung_retries_total", { pool: "main" })).toBe(1);
    expect(sampleValue(samples, "rung_rate_limited_total", { pool: "team", key: "key_abc" })).toBe(1);
    expect(sampleValue(samples, "rung_queue_depth", { pool: "main" })).toBe(2);
    expect(sampleValue(samples, "rung_queue_depth", { pool: "team" })).toBe(0);
    expect(sampleValue(samples, "rung_breaker_open", { pool: "main", node: "n1", model: "small" })).toBe(1);
    expect(sampleValue(samples, "rung_nodes", { pool: "team", tier: "private", kind: "agent", engine: "llama-cpp" })).toBe(1);
  });

  it("round-trips a label value with a quote, a backslash and a newline", () => {
    const samples = samplesOf(scrapedPage());
    expect(sampleValue(samples, "rung_requests_total", { pool: "team", model: 'we"ird\\mo\ndel', status: "200" })).toBe(1);
  });

  it("reads back labelled histograms: cumulative buckets, +Inf equal to _count, and _sum", () => {
    const samples = samplesOf(scrapedPage());
    const labels = { pool: "main", model: "auto" };
    const buckets = samples.filter(
      (s) => s.name === "rung_request_duration_seconds_bucket" && s.labels.pool === "main" && s.labels.model === "auto",
    );
    expect(buckets.map((b) => b.labels.le)).toEqual([...LLM_SECONDS_BUCKETS.map(String), "+Inf"]);
    const cumulative = buckets.map((b) => b.value);
    expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
    const at = (le: string) => buckets.find((b) => b.labels.le === le)!.value;
    expect([at("0.5"), at("1"), at("2.5"), at("5"), at("120"), at("+Inf")]).toEqual([0, 1, 1, 2, 2, 3]);
    expect(sampleValue(samples, "rung_request_duration_seconds_count", labels)).toBe(3);
    expect(sampleValue(samples, "rung_request_duration_seconds_sum", labels)).toBeCloseTo(133.8);
    expect(sampleValue(samples, "rung_time_to_first_token_seconds_sum", labels)).toBeCloseTo(2.2);
    expect(sampleValue(samples, "rung_edge_overhead_seconds_count", { pool: "main" })).toBe(2);
    expect(sampleValue(samples, "rung_edge_overhead_seconds_sum", { pool: "main" })).toBeCloseTo(0.06);
  });

  it("reads an unlabelled histogram as the parser's own histogram", () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.5, 0.7, 9]) h.observe({}, v);
    const [parsed] = parsePrometheusTextFormat(renderPrometheus([h.family("x_seconds", "X.")]));
    expect(parsed).toEqual({
      name: "x_seconds",
      help: "X.",
      type: "HISTOGRAM",
      metrics: [{ buckets: { "0.1": "1", "1": "3", "+Inf": "4" }, sum: "10.25", count: "4" }],
    });
  });

  it("round-trips HELP text with a backslash and a newline, and writes +Inf, -Inf and NaN as Prometheus spells them", () => {
    const page = renderPrometheus([
      {
        name: "odd",
        help: 'a \\ backslash, a "quote"\nand a second line',
        type: "gauge",
        samples: [
          { labels: { v: "pos" }, value: Infinity },
          { labels: { v: "neg" }, value: -Infinity },
          { labels: { v: "nan" }, value: Number.NaN },
        ],
      },
    ]);
    const [parsed] = parsePrometheusTextFormat(page);
    expect(parsed!.help).toBe('a \\ backslash, a "quote"\nand a second line');
    expect(parsed!.metrics.map((m) => [m.labels!.v, m.value])).toEqual([
      ["nan", "NaN"],
      ["neg", "-Inf"],
      ["pos", "+Inf"],
    ]);
  });
});
