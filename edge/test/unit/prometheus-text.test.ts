import { describe, expect, it } from "vitest";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  type MetricFamily,
  mergeFamilies,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../src/metrics/index.ts";

const requests = (samples: { labels: Record<string, string>; value: number }[], name = "rung_requests_total"): MetricFamily => ({
  name,
  help: "Requests.",
  type: "counter",
  samples,
});

const latency = (samples: { labels: Record<string, string>; counts: number[]; sum: number }[], bounds = [0.1, 1]): MetricFamily => ({
  name: "rung_latency_seconds",
  help: "Latency.",
  type: "histogram",
  bounds,
  samples,
});

describe("renderPrometheus", () => {
  it("writes HELP, TYPE and samples, families in name order and samples in label order", () => {
    const page = renderPrometheus([
      requests([
        { labels: { pool: "b", status: "200" }, value: 3 },
        { labels: { pool: "a", status: "429" }, value: 1 },
      ]),
      { name: "rung_queue_depth", help: "Waiting.", type: "gauge", samples: [{ labels: {}, value: 0 }] },
    ]);
    expect(page).toBe(
      [
        "# HELP rung_queue_depth Waiting.",
        "# TYPE rung_queue_depth gauge",
        "rung_queue_depth 0",
        "# HELP rung_requests_total Requests.",
        "# TYPE rung_requests_total counter",
        'rung_requests_total{pool="a",status="429"} 1',
        'rung_requests_total{pool="b",status="200"} 3',
        "",
      ].join("\n"),
    );
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("writes an empty page for no families, and a family without samples as its HELP and TYPE", () => {
    expect(renderPrometheus([])).toBe("");
    expect(renderPrometheus([requests([])])).toBe("# HELP rung_requests_total Requests.\n# TYPE rung_requests_total counter\n");
  });

  it("writes histogram buckets cumulative, +Inf equal to _count, le after the other labels", () => {
    const page = renderPrometheus([latency([{ labels: { pool: "p" }, counts: [2, 3, 1], sum: 4.25 }])]);
    expect(page.split("\n").slice(2, -1)).toEqual([
      'rung_latency_seconds_bucket{pool="p",le="0.1"} 2',
      'rung_latency_seconds_bucket{pool="p",le="1"} 5',
      'rung_latency_seconds_bucket{pool="p",le="+Inf"} 6',
      'rung_latency_seconds_sum{pool="p"} 4.25',
      'rung_latency_seconds_count{pool="p"} 6',
    ]);
  });

  it("escapes label values and HELP text", () => {
    const page = renderPrometheus([
      { ...requests([{ labels: { model: 'a\\b"c"\nd' }, value: 1 }]), help: 'Back\\slash "quoted"\nsecond line' },
    ]);
    expect(page).toContain('# HELP rung_requests_total Back\\\\slash "quoted"\\nsecond line\n');
    expect(page).toContain('rung_requests_total{model="a\\\\b\\"c\\"\\nd"} 1\n');
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
    expect(escapeHelp('\\"\n')).toBe('\\\\"\\n');
  });

  it("formats numbers as Prometheus reads them", () => {
    expect([Infinity, -Infinity, Number.NaN, 0, -0, 1.5, 1e21, 1e-7, -3].map(formatValue)).toEqual([
      "+Inf",
      "-Inf",
      "NaN",
      "0",
      "0",
      "1.5",
      "1e+21",
      "1e-7",
      "-3",
    ]);
    expect(renderPrometheus([{ name: "g", help: "", type: "gauge", samples: [{ labels: {}, value: -Infinity }] }])).toContain("g -Inf\n");
  });

  it("throws on what would make a bad page", () => {
    expect(() => renderPrometheus([requests([], "rung_requests")])).toThrow(/_total/);
    expect(() => renderPrometheus([requests([], "rung-requests_total")])).toThrow(/metric name/);
    expect(() => renderPrometheus([requests([{ labels: { "bad-name": "x" }, value: 1 }])])).toThrow(/label name/);
    expect(() => renderPrometheus([requests([{ labels: { __name__: "x" }, value: 1 }])])).toThrow(/label name/);
    expect(() => renderPrometheus([latency([{ labels: { le: "1" }, counts: [0, 0, 0], sum: 0 }])])).toThrow(/le label/);
    expect(() => renderPrometheus([latency([{ labels: {}, counts: [0, 0], sum: 0 }])])).toThrow(/counts/);
    expect(() => renderPrometheus([latency([], [1, 0.5])])).toThrow(/increasing/);
    expect(() => renderPrometheus([requests([]), requests([])])).toThrow(/twice/);
  });
});

describe("mergeFamilies", () => {
  it("adds up same-labelled samples across pools and keeps the rest apart", () => {
    const merged = mergeFamilies([
      [requests([{ labels: { pool: "a", status: "200" }, value: 2 }]), latency([{ labels: {}, counts: [1, 0, 0], sum: 0.05 }])],
      [
        requests([
          { labels: { status: "200", pool: "a" }, value: 5 },
          { labels: { pool: "b", status: "200" }, value: 1 },
        ]),
        latency([{ labels: {}, counts: [0, 2, 1], sum: 3.5 }]),
      ],
    ]);
    expect(merged.map((f) => f.name)).toEqual(["rung_latency_seconds", "rung_requests_total"]);
    expect(merged[1]!.samples).toEqual([
      { labels: { pool: "a", status: "200" }, value: 7 },
      { labels: { pool: "b", status: "200" }, value: 1 },
    ]);
    expect(merged[0]!.samples).toEqual([{ labels: {}, counts: [1, 2, 1], sum: 3.55 }]);
  });

  it("leaves out a family of another type or other bounds instead of writing it wrong", () => {
    const gauge: MetricFamily = { name: "rung_requests_total", help: "", type: "gauge", samples: [{ labels: {}, value: 9 }] };
    const merged = mergeFamilies([
      [requests([{ labels: {}, value: 1 }]), latency([{ labels: {}, counts: [1, 0, 0], sum: 0 }])],
      [gauge, latency([{ labels: {}, counts: [1, 1, 1, 1], sum: 9 }], [0.1, 1, 10])],
    ]);
    expect(merged).toEqual([latency([{ labels: {}, counts: [1, 0, 0], sum: 0 }]), requests([{ labels: {}, value: 1 }])]);
  });

  it("does not change its input", () => {
    const input = [latency([{ labels: {}, counts: [1, 0, 0], sum: 1 }])];
    const copy = structuredClone(input);
    mergeFamilies([input, input]);
    expect(input).toEqual(copy);
  });
});
