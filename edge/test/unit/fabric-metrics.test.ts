import { describe, expect, it } from "vitest";
import { FabricMetrics, type LiveState, type RequestEnd } from "../../src/fabric/fabric-metrics.ts";
import type { HistogramFamily, MetricFamily, ScalarFamily } from "../../src/metrics/index.ts";

const idle: LiveState = { queueDepth: 0, breakers: [], nodes: [] };

function ended(overrides: Partial<RequestEnd> = {}): RequestEnd {
  return {
    model: "auto",
    status: 200,
    totalMs: 1200,
    promptTokens: 10,
    completionTokens: 20,
    attempts: [{ outcome: "answered" }],
    ...overrides,
  };
}

function find(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no family ${name}`);
  return found;
}

function histogram(families: MetricFamily[], name: string): HistogramFamily {
  const found = find(families, name);
  if (found.type !== "histogram") throw new Error(`${name} is a ${found.type}`);
  return found;
}

/** A scalar family's samples as `label=value,… → value`, for short assertions. */
function values(families: MetricFamily[], name: string): Record<string, number> {
  return Object.fromEntries(
    (find(families, name) as ScalarFamily).samples.map((s) => [
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
      s.value,
    ]),
  );
}

describe("FabricMetrics", () => {
  it("counts requests by model and status, and their tokens by direction", () => {
    const metrics = new FabricMetrics();
    metrics.requestEnded(ended());
    metrics.requestEnded(ended({ promptTokens: 5, completionTokens: 1 }));
    metrics.requestEnded(ended({ model: "small", status: 429, promptTokens: 0, completionTokens: 0, attempts: [] }));
    const families = metrics.families("main", idle);
    expect(values(families, "rung_requests_total")).toEqual({
      "pool=main,model=auto,status=200": 2,
      "pool=main,model=small,status=429": 1,
    });
    expect(values(families, "rung_tokens_total")).toEqual({
      "pool=main,model=auto,direction=prompt": 15,
      "pool=main,model=auto,direction=completion": 21,
      "pool=main,model=small,direction=prompt": 0,
      "pool=main,model=small,direction=completion": 0,
    });
  });

  it("times requests, first tokens and the edge's own part in seconds", () => {
    const metrics = new FabricMetrics();
    metrics.requestEnded(ended({ totalMs: 1200, firstTokenMs: 300, nodeMs: 1180 }));
    metrics.requestEnded(ended({ totalMs: 40 }));
    // A node's clock can make its time look longer than the whole: the overhead is 0 then, not negative.
    metrics.requestEnded(ended({ totalMs: 100, nodeMs: 150 }));
    const families = metrics.families("main", idle);
    const duration = histogram(families, "rung_request_duration_seconds");
    expect(duration.samples).toHaveLength(1);
    expect(duration.samples[0]!.labels).toEqual({ pool: "main", model: "auto" });
    expect(duration.samples[0]!.sum).toBeCloseTo(1.34);
    expect(duration.samples[0]!.counts.reduce((a, b) => a + b)).toBe(3);
    const firstToken = histogram(families, "rung_time_to_first_token_seconds").samples;
    expect(firstToken.map((s) => [s.sum, s.counts.reduce((a, b) => a + b)])).toEqual([[0.3, 1]]);
    const overhead = histogram(families, "rung_edge_overhead_seconds");
    expect(overhead.samples[0]!.labels).toEqual({ pool: "main" });
    expect(overhead.samples[0]!.sum).toBeCloseTo(0.02);
    expect(overhead.samples[0]!.counts[0]).toBe(1); // 0 s falls in the first bucket
  });

  it("counts escalations by reason, hedges by outcome and retries, at 0 from the start", () => {
    const metrics = new FabricMetrics();
    expect(values(metrics.families("p", idle), "rung_escalations_total")).toEqual({
      "pool=p,reason=low_confidence": 0,
      "pool=p,reason=invalid_json": 0,
      "pool=p,reason=schema_mismatch": 0,
      "pool=p,reason=other": 0,
    });
    metrics.requestEnded(
      ended({
        attempts: [
          { outcome: "escalated", reason: "mean confidence 0.21 < 0.5", hedge: false },
          { outcome: "node_disconnected", reason: "gone", hedge: false },
          { outcome: "hedge_lost", reason: "n2 answered first", hedge: false },
          { outcome: "answered", hedge: true },
        ],
      }),
    );
    const families = metrics.families("p", idle);
    expect(values(families, "rung_escalations_total")["pool=p,reason=low_confidence"]).toBe(1);
    expect(values(families, "rung_hedges_total")).toEqual({
      "pool=p,outcome=won": 1,
      "pool=p,outcome=lost": 0,
      "pool=p,outcome=undecided": 0,
    });
    expect(values(families, "rung_retries_total")).toEqual({ "pool=p": 1 });
  });

  it("counts refusals by rate limit per key", () => {
    const metrics = new FabricMetrics();
    metrics.rateLimited("key_a");
    metrics.rateLimited("key_a");
    metrics.rateLimited("static:0");
    expect(values(metrics.families("p", idle), "rung_rate_limited_total")).toEqual({ "pool=p,key=key_a": 2, "pool=p,key=static:0": 1 });
  });

  it("reads breakers, queue depth and nodes from the live state", () => {
    const live: LiveState = {
      queueDepth: 3,
      breakers: [
        { node: "n1", model: "small", open: true },
        { node: "n2", model: "small", open: false },
      ],
      nodes: [
        { tier: "private", kind: "agent", engine: "llama-cpp" },
        { tier: "private", kind: "agent", engine: "llama-cpp" },
        { tier: "public", kind: "tab", engine: "webllm" },
      ],
    };
    const families = new FabricMetrics().families("p", live);
    expect(values(families, "rung_breaker_open")).toEqual({ "pool=p,node=n1,model=small": 1, "pool=p,node=n2,model=small": 0 });
    expect(values(families, "rung_queue_depth")).toEqual({ "pool=p": 3 });
    expect(values(families, "rung_nodes")).toEqual({
      "pool=p,tier=private,kind=agent,engine=llama-cpp": 2,
      "pool=p,tier=public,kind=tab,engine=webllm": 1,
    });
    for (const f of families)
      expect(f.type).toBe(f.name.endsWith("_total") ? "counter" : f.name.endsWith("_seconds") ? "histogram" : "gauge");
  });

  it("caps the series of each family, folding the rest into other", () => {
    const metrics = new FabricMetrics({ maxSeries: 2 });
    for (const model of ["a", "b", "c", "d"]) metrics.requestEnded(ended({ model }));
    for (const key of ["k1", "k2", "k3"]) metrics.rateLimited(key);
    const breakers = ["n1", "n2", "n3", "n4"].map((node) => ({ node, model: "m", open: true }));
    const families = metrics.families("p", { ...idle, breakers });
    expect(values(families, "rung_requests_total")).toEqual({
      "pool=p,model=a,status=200": 1,
      "pool=p,model=b,status=200": 1,
      "pool=p,model=other,status=200": 2,
    });
    expect(histogram(families, "rung_request_duration_seconds").samples.map((s) => s.labels.model)).toEqual(["a", "b", "other"]);
    expect(values(families, "rung_rate_limited_total")).toEqual({ "pool=p,key=k1": 1, "pool=p,key=k2": 1, "pool=p,key=other": 1 });
    expect(values(families, "rung_breaker_open")).toEqual({
      "pool=p,node=n1,model=m": 1,
      "pool=p,node=n2,model=m": 1,
      "pool=p,node=other,model=other": 2,
    });
  });

  it("hands out plain data that survives structured clone and JSON", () => {
    const metrics = new FabricMetrics();
    metrics.requestEnded(ended({ firstTokenMs: 100, nodeMs: 1000 }));
    const families = metrics.families("p", idle);
    expect(structuredClone(families)).toEqual(families);
    expect(JSON.parse(JSON.stringify(families))).toEqual(families);
  });
});
