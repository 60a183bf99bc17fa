import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { byId, el } from "./dom.ts";
import type { ChartSeries, ModelSummary } from "./traffic.ts";

const PALETTE = ["#2f6fde", "#e8793a", "#2a9d5b", "#b04ad8", "#d23c5a", "#1f9fb3", "#8a7a18", "#6b6b6b"];
const HEIGHT = 180;

/** The five traffic charts (uPlot) and the summary table, redrawn from the page's `Traffic`. */
export class TrafficCharts {
  #charts: uPlot[] = [];
  /** The models the charts were built for: a new model means new series, so the charts are rebuilt. */
  #models = "";

  constructor() {
    // One observer for all of them: a phone turned sideways, a window resized.
    new ResizeObserver(() => {
      for (const chart of this.#charts) chart.setSize({ width: widthOf(chart.root.parentElement!), height: HEIGHT });
    }).observe(byId("chart-requests"));
  }

  render(series: ChartSeries, summary: readonly ModelSummary[]): void {
    renderSummary(summary);
    const data: uPlot.AlignedData[] = [
      [series.seconds, ...series.requests],
      [series.seconds, ...series.tokensPerSecond],
      [series.seconds, series.p50, series.p95],
      [series.seconds, series.escalations, series.errors],
      [series.seconds, ...series.share],
    ];
    if (series.models.join("\n") !== this.#models) this.#build(series.models, data);
    else for (const [i, chart] of this.#charts.entries()) chart.setData(data[i]!);
  }

  #build(models: readonly string[], data: uPlot.AlignedData[]): void {
    for (const chart of this.#charts) chart.destroy();
    this.#models = models.join("\n");
    const perModel = models.map((model, i) => line(model, PALETTE[i % PALETTE.length]!));
    const specs: [string, uPlot.Series[], uPlot.Range.MinMax?][] = [
      ["chart-requests", perModel],
      ["chart-tokens", perModel],
      ["chart-latency", [line("p50", PALETTE[0]!), line("p95", PALETTE[4]!)]],
      ["chart-climbs", [line("escalations", PALETTE[1]!), line("errors", PALETTE[4]!)]],
      ["chart-share", perModel, [0, 100]],
    ];
    this.#charts = specs.map(([id, lines, range], i) => {
      const target = byId(id);
      target.replaceChildren();
      return new uPlot(optionsFor(widthOf(target), lines, range), data[i]!, target);
    });
  }
}

function line(label: string, stroke: string): uPlot.Series {
  // Points always: latency and shares have no value in a minute without requests, and one busy minute alone draws no line.
  return { label, stroke, width: 2, spanGaps: false, points: { show: true, size: 5 } };
}

function optionsFor(width: number, lines: uPlot.Series[], range?: uPlot.Range.MinMax): uPlot.Options {
  const ink = getComputedStyle(document.body).color;
  const grid = { stroke: "rgba(128,128,128,0.2)", width: 1 };
  return {
    width,
    height: HEIGHT,
    series: [{}, ...lines],
    axes: [
      { stroke: ink, grid, ticks: grid },
      { stroke: ink, grid, ticks: grid, size: 48 },
    ],
    ...(range && { scales: { y: { range } } }),
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
}

function widthOf(element: HTMLElement): number {
  return Math.max(240, Math.floor(element.clientWidth));
}

/** Two significant digits below 10 tokens/s (a quiet hour is 0.0044, not 0.00), whole numbers above. */
function rate(perSecond: number): string {
  return perSecond === 0 ? "0" : perSecond < 10 ? perSecond.toPrecision(2) : String(Math.round(perSecond));
}

function renderSummary(summary: readonly ModelSummary[]): void {
  const body = byId("traffic-summary").querySelector("tbody")!;
  const ms = (value: number | undefined) => (value === undefined ? "–" : `${Math.round(value)} ms`);
  body.replaceChildren(
    ...summary.map((row) =>
      el(
        "tr",
        {},
        el("td", {}, row.model),
        el("td", {}, String(row.requests)),
        el("td", {}, rate(row.tokensPerSecond)),
        el("td", {}, String(row.escalations)),
        el("td", { class: row.errors > 0 ? "bad" : "" }, String(row.errors)),
        el("td", {}, ms(row.p50Ms)),
        el("td", {}, ms(row.p95Ms)),
        el("td", {}, `${Math.round(row.answeredShare * 100)}%`),
      ),
    ),
  );
  if (summary.length === 0) body.append(el("tr", {}, el("td", { colspan: "8", class: "facts" }, "No request in the last hour.")));
}
