import { latencyQuantile, type TrafficMinute } from "@rung/shared/protocol";

/** The charts show this many minutes, ending with the current one. */
export const WINDOW_MINUTES = 60;

/** The pool's traffic as the page holds it: one row per minute per model, replaced as the feed updates it. */
export class Traffic {
  readonly #rows = new Map<string, TrafficMinute>();

  /** A snapshot's rows, or one request's updated row: the newest row of a minute and model wins. */
  put(rows: readonly TrafficMinute[]): void {
    for (const row of rows) this.#rows.set(`${row.minute}|${row.model}`, row);
  }

  /** Rows of the last `WINDOW_MINUTES` before `nowMinute`, its own included. */
  window(nowMinute: number): TrafficMinute[] {
    return [...this.#rows.values()].filter((row) => row.minute > nowMinute - WINDOW_MINUTES && row.minute <= nowMinute);
  }

  /**
   * For uPlot: minute starts in seconds; per model requests/min, completion
   * tokens/s and share of answers (%); for all models p50 and p95 (ms),
   * escalations and errors per minute.
   */
  series(nowMinute: number): ChartSeries {
    const rows = this.window(nowMinute);
    const models = [...new Set(rows.map((row) => row.model))].sort();
    const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => nowMinute - WINDOW_MINUTES + 1 + i);
    const at = new Map(rows.map((row) => [`${row.minute}|${row.model}`, row]));
    const perModel = (read: (row: TrafficMinute) => number) =>
      models.map((model) =>
        minutes.map((minute) => {
          const row = at.get(`${minute}|${model}`);
          return row ? read(row) : 0;
        }),
      );
    const allModels = (field: "escalations" | "errors") =>
      minutes.map((minute) => models.reduce((sum, model) => sum + (at.get(`${minute}|${model}`)?.[field] ?? 0), 0));
    const merged = minutes.map((minute) => mergeLatency(rows.filter((row) => row.minute === minute)));
    const answered = minutes.map((minute) => models.reduce((sum, model) => sum + (at.get(`${minute}|${model}`)?.answered ?? 0), 0));
    const share = models.map((model) =>
      minutes.map((minute, i) => {
        const total = answered[i]!;
        return total === 0 ? null : (100 * (at.get(`${minute}|${model}`)?.answered ?? 0)) / total;
      }),
    );
    return {
      seconds: minutes.map((minute) => minute * 60),
      models,
      requests: perModel((row) => row.requests),
      tokensPerSecond: perModel((row) => row.completionTokens / 60),
      escalations: allModels("escalations"),
      errors: allModels("errors"),
      p50: merged.map((histogram) => latencyQuantile(histogram, 0.5) ?? null),
      p95: merged.map((histogram) => latencyQuantile(histogram, 0.95) ?? null),
      share,
    };
  }

  /** Each model over the window: what the summary table shows. */
  summary(nowMinute: number): ModelSummary[] {
    const byModel = new Map<string, TrafficMinute[]>();
    for (const row of this.window(nowMinute)) byModel.set(row.model, [...(byModel.get(row.model) ?? []), row]);
    const answeredAll = this.window(nowMinute).reduce((sum, row) => sum + row.answered, 0);
    return [...byModel.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, rows]) => {
        const sum = (field: "requests" | "answered" | "completionTokens" | "escalations" | "errors") =>
          rows.reduce((total, row) => total + row[field], 0);
        const latency = mergeLatency(rows);
        return {
          model,
          requests: sum("requests"),
          tokensPerSecond: sum("completionTokens") / (WINDOW_MINUTES * 60),
          escalations: sum("escalations"),
          errors: sum("errors"),
          p50Ms: latencyQuantile(latency, 0.5),
          p95Ms: latencyQuantile(latency, 0.95),
          answeredShare: answeredAll === 0 ? 0 : sum("answered") / answeredAll,
        };
      });
  }
}

export interface ChartSeries {
  seconds: number[];
  models: string[];
  requests: number[][];
  tokensPerSecond: number[][];
  escalations: number[];
  errors: number[];
  p50: (number | null)[];
  p95: (number | null)[];
  share: (number | null)[][];
}

export interface ModelSummary {
  model: string;
  requests: number;
  /** Completion tokens per second, averaged over the window. */
  tokensPerSecond: number;
  escalations: number;
  errors: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  /** Of all answers in the window, the share this model (its rung) gave, 0–1. */
  answeredShare: number;
}

function mergeLatency(rows: readonly TrafficMinute[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const row of rows) for (const [bucket, count] of Object.entries(row.latency)) merged[bucket] = (merged[bucket] ?? 0) + count;
  return merged;
}
