import {
  type AttemptEnd,
  attemptOutcomes,
  Counter,
  EDGE_SECONDS_BUCKETS,
  ESCALATION_REASONS,
  foldLabels,
  HEDGE_OUTCOMES,
  Histogram,
  type Labels,
  LLM_SECONDS_BUCKETS,
  type MetricFamily,
  SeriesMap,
} from "../metrics/index.ts";

/** How a request ended, as the Fabric tells it once its answer or error is out. */
export interface RequestEnd {
  /** The model that answered, else (nothing answered) the one the client asked for, an `auto` one included. */
  model: string;
  /** 200 answered; else the HTTP status: 429, 503, 504, 499 (client closed), 502 (a stream that broke after its commit). */
  status: number;
  /** From the request's arrival to its end. */
  totalMs: number;
  /** From the request's arrival to the first token the client got. */
  firstTokenMs?: number;
  /** The time nodes spent on it; the rest of `totalMs` is the edge's own. */
  nodeMs?: number;
  promptTokens: number;
  completionTokens: number;
  /** Every attempt in the order they ended, the answered one included; `hedge` on each tells won hedges from lost ones. */
  attempts: readonly AttemptEnd[];
}

/** What the pool's object knows now, read at scrape time. */
export interface LiveState {
  queueDepth: number;
  breakers: readonly { node: string; model: string; open: boolean }[];
  nodes: readonly { tier: string; kind: string; engine: string }[];
}

type CounterSnapshot = ReturnType<Counter["snapshot"]>;
type HistogramSnapshot = ReturnType<Histogram["snapshot"]>;

export interface MetricsSnapshot {
  requests: CounterSnapshot;
  duration: HistogramSnapshot;
  firstToken: HistogramSnapshot;
  edgeOverhead: HistogramSnapshot;
  tokens: CounterSnapshot;
  escalations: CounterSnapshot;
  hedges: CounterSnapshot;
  retries: CounterSnapshot;
  rateLimited: CounterSnapshot;
}

export interface FabricMetricsOptions {
  /** Series per family before new label sets fold into `other`; default 1,000. */
  maxSeries?: number;
}

/**
 * The metrics of one pool's object, in memory, kept in storage by its owner
 * (`snapshot`, `restore`) so that they outlive the object's hibernation. The
 * Fabric reports each request's end and each refusal by rate limit; a scrape
 * reads them with the live state as plain `MetricFamily` data.
 */
export class FabricMetrics {
  readonly #maxSeries: number | undefined;
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #firstToken: Histogram;
  readonly #edgeOverhead: Histogram;
  readonly #tokens: Counter;
  readonly #escalations = new Counter();
  readonly #hedges = new Counter();
  readonly #retries = new Counter();
  readonly #rateLimited: Counter;

  constructor(options: FabricMetricsOptions = {}) {
    const maxSeries = options.maxSeries;
    this.#maxSeries = maxSeries;
    const byModel = { ...(maxSeries !== undefined && { maxSeries }), fold: foldLabels("model") };
    this.#requests = new Counter(byModel);
    this.#duration = new Histogram(LLM_SECONDS_BUCKETS, byModel);
    this.#firstToken = new Histogram(LLM_SECONDS_BUCKETS, byModel);
    this.#edgeOverhead = new Histogram(EDGE_SECONDS_BUCKETS);
    this.#tokens = new Counter(byModel);
    this.#rateLimited = new Counter(maxSeries === undefined ? {} : { maxSeries });
    // Known label values show from the start at 0, so `rate` sees their first increase.
    for (const reason of ESCALATION_REASONS) this.#escalations.inc({ reason }, 0);
    for (const outcome of HEDGE_OUTCOMES) if (outcome !== "unknown") this.#hedges.inc({ outcome }, 0);
    this.#retries.inc({}, 0);
  }

  /** Every count as plain data, to keep in storage: a hibernating object is rebuilt, and counters would start at 0. */
  snapshot(): MetricsSnapshot {
    return {
      requests: this.#requests.snapshot(),
      duration: this.#duration.snapshot(),
      firstToken: this.#firstToken.snapshot(),
      edgeOverhead: this.#edgeOverhead.snapshot(),
      tokens: this.#tokens.snapshot(),
      escalations: this.#escalations.snapshot(),
      hedges: this.#hedges.snapshot(),
      retries: this.#retries.snapshot(),
      rateLimited: this.#rateLimited.snapshot(),
    };
  }

  /** The counts of a snapshot an earlier instance kept (one written by another release may lack families: those start at 0). */
  restore(snapshot: Partial<MetricsSnapshot>): void {
    this.#requests.restore(snapshot.requests ?? []);
    this.#duration.restore(snapshot.duration ?? []);
    this.#firstToken.restore(snapshot.firstToken ?? []);
    this.#edgeOverhead.restore(snapshot.edgeOverhead ?? []);
    this.#tokens.restore(snapshot.tokens ?? []);
    this.#escalations.restore(snapshot.escalations ?? []);
    this.#hedges.restore(snapshot.hedges ?? []);
    this.#retries.restore(snapshot.retries ?? []);
    this.#rateLimited.restore(snapshot.rateLimited ?? []);
  }

  requestEnded(r: RequestEnd): void {
    const model = { model: r.model };
    this.#requests.inc({ ...model, status: String(r.status) });
    this.#duration.observe(model, r.totalMs / 1000);
    if (r.firstTokenMs !== undefined) this.#firstToken.observe(model, r.firstTokenMs / 1000);
    if (r.nodeMs !== undefined) this.#edgeOverhead.observe({}, Math.max(0, r.totalMs - r.nodeMs) / 1000);
    this.#tokens.inc({ ...model, direction: "prompt" }, r.promptTokens);
    this.#tokens.inc({ ...model, direction: "completion" }, r.completionTokens);
    const outcomes = attemptOutcomes(r.attempts);
    for (const reason of outcomes.escalations) this.#escalations.inc({ reason });
    for (const outcome of HEDGE_OUTCOMES) if (outcomes.hedges[outcome] > 0) this.#hedges.inc({ outcome }, outcomes.hedges[outcome]);
    this.#retries.inc({}, outcomes.retries);
  }

  /** A request refused before it ran (a limit, no node to serve it): counted, but no time or tokens to observe. */
  refused(model: string, status: number): void {
    this.#requests.inc({ model, status: String(status) });
  }

  /** A request refused because its key went past a limit. */
  rateLimited(keyId: string): void {
    this.#rateLimited.inc({ key: keyId });
  }

  families(pool: string, live: LiveState): MetricFamily[] {
    const p = { pool };
    return [
      this.#requests.family(
        "rung_requests_total",
        "Requests that ended, by model (the one that answered, else the one asked for) and HTTP status (200 answered).",
        p,
      ),
      this.#duration.family("rung_request_duration_seconds", "From a request's arrival to its end.", p),
      this.#firstToken.family("rung_time_to_first_token_seconds", "From a request's arrival to the first token the client got.", p),
      this.#edgeOverhead.family("rung_edge_overhead_seconds", "The part of a request's time not spent on nodes.", p),
      this.#tokens.family("rung_tokens_total", "Tokens of ended requests, by direction (prompt or completion).", p),
      this.#escalations.family("rung_escalations_total", "Attempts whose answer looked weak, so the request climbed a rung.", p),
      this.#hedges.family("rung_hedges_total", "Hedges (a second node for a late first token), by how their race ended.", p),
      this.#retries.family("rung_retries_total", "Attempts that failed and were followed by another attempt.", p),
      this.#rateLimited.family("rung_rate_limited_total", "Requests refused because their key went past a limit.", p),
      {
        name: "rung_breaker_open",
        help: "1 while the circuit breaker of a node and model is open, else 0.",
        type: "gauge",
        samples: this.#gauge(
          live.breakers.map((b) => [{ node: b.node, model: b.model }, b.open ? 1 : 0]),
          p,
        ),
      },
      {
        name: "rung_queue_depth",
        help: "Requests waiting for a free node.",
        type: "gauge",
        samples: [{ labels: p, value: live.queueDepth }],
      },
      {
        name: "rung_nodes",
        help: "Nodes connected now, by tier, kind and engine.",
        type: "gauge",
        samples: this.#gauge(
          live.nodes.map((n) => [{ tier: n.tier, kind: n.kind, engine: n.engine }, 1]),
          p,
        ),
      },
    ];
  }

  /** Values added up per label set, capped like the counters: past the cap they add up under `other`. */
  #gauge(values: [Labels, number][], extra: Labels): { labels: Labels; value: number }[] {
    const series = new SeriesMap(() => ({ value: 0 }), this.#maxSeries === undefined ? {} : { maxSeries: this.#maxSeries });
    for (const [labels, value] of values) series.get(labels).value += value;
    return series.entries().map(({ labels, value }) => ({ labels: { ...extra, ...labels }, value: value.value }));
  }
}
