import type { RequestRoute } from "@rung/shared/protocol";

type Attempt = RequestRoute["attempts"][number];

/** Where each attempt of a trace stands: its rung (models in the order the request reached them, lowest first) and its place in time. */
export interface LadderStep {
  attempt: Attempt;
  rung: number;
  /** The bar the attempt was judged against: from its trace, or when its reason names one (`mean confidence 0.21 < 0.5`). */
  bar: number | undefined;
  /** What was held to the bar, in the judge's words (`mean confidence`, `logistic score`, `token confidence`), and its value. */
  judged: { label: string; value: number } | undefined;
  /** `answered`, `escalated`, `hedge_lost`, or `failed` for an error code: what the picture colours it by. */
  kind: "answered" | "escalated" | "hedge_lost" | "failed";
}

export function ladderSteps(attempts: readonly Attempt[]): { rungs: string[]; steps: LadderStep[] } {
  const rungs: string[] = [];
  const steps = attempts.map((attempt) => {
    if (!rungs.includes(attempt.model)) rungs.push(attempt.model);
    const named = /<\s*(\d+(?:\.\d+)?)/.exec(attempt.reason ?? "")?.[1];
    const kind = (["answered", "escalated", "hedge_lost"] as const).find((k) => k === attempt.outcome) ?? "failed";
    const { judged, bar } = judgedOf(attempt, named === undefined ? undefined : Number(named));
    return { attempt, rung: rungs.indexOf(attempt.model), bar, judged, kind } as const;
  });
  return { rungs, steps };
}

/**
 * What the attempt's bar was held to. A climb on one weak token names the lowest confidence and
 * its own bar in the reason; otherwise the judge's score and bar from the trace, or, from an
 * edge before judges were named, the mean confidence and the bar its reason names.
 */
function judgedOf(attempt: Attempt, named: number | undefined): Pick<LadderStep, "judged" | "bar"> {
  const c = attempt.confidence;
  if (!c) return { judged: undefined, bar: named };
  if (attempt.reason?.startsWith("token confidence")) return { judged: { label: "token confidence", value: c.min }, bar: named };
  if (c.judge !== undefined && c.score !== undefined) return { judged: { label: c.judge, value: c.score }, bar: c.bar ?? named };
  return { judged: { label: "mean confidence", value: c.mean }, bar: named };
}

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const LABEL = 150;
const BAND = 96;
const CARD_HEIGHT = 94;

/**
 * The ladder a request climbed, as SVG: one band per rung (the smallest at the
 * bottom), each attempt a card on its rung in the order they ended, joined by
 * the path the request took. Text only through textContent.
 */
export function ladderPicture(attempts: readonly Attempt[]): SVGSVGElement {
  const { rungs, steps } = ladderSteps(attempts);
  const height = Math.max(1, rungs.length) * BAND + 16;
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "ladder", role: "img" });
  svg.append(node("title", {}, `The ladder: ${steps.map((s) => `${s.attempt.model} ${s.attempt.outcome}`).join(", then ")}`));
  const yOf = (rung: number) => height - 8 - (rung + 0.5) * BAND;
  // The rails and rungs, with the model of each.
  svg.append(node("line", { x1: "12", y1: "8", x2: "12", y2: String(height - 8), class: "rail" }));
  svg.append(node("line", { x1: String(LABEL - 12), y1: "8", x2: String(LABEL - 12), y2: String(height - 8), class: "rail" }));
  for (const [rung, model] of rungs.entries()) {
    const y = yOf(rung);
    svg.append(node("line", { x1: "12", y1: String(y), x2: String(LABEL - 12), y2: String(y), class: "rung" }));
    svg.append(node("text", { x: "20", y: String(y - 8), class: "model" }, model));
  }
  const slot = (WIDTH - LABEL) / Math.max(1, steps.length);
  const cardWidth = Math.min(200, slot - 12);
  const centres = steps.map((step, i) => ({ x: LABEL + slot * i + slot / 2, y: yOf(step.rung) }));
  if (centres.length > 1) {
    const points = [`${LABEL - 12},${centres[0]!.y}`, ...centres.map((c) => `${c.x},${c.y}`)].join(" ");
    svg.append(node("polyline", { points, class: "path" }));
  }
  for (const [i, step] of steps.entries())
    svg.append(card(step, centres[i]!.x - cardWidth / 2, centres[i]!.y - CARD_HEIGHT / 2, cardWidth, i + 1));
  return svg;
}

function card(step: LadderStep, x: number, y: number, width: number, order: number): SVGGElement {
  const { attempt } = step;
  const group = node("g", { class: `step ${step.kind}`, transform: `translate(${x} ${y})` });
  group.append(node("rect", { width: String(width), height: String(CARD_HEIGHT), rx: "8" }));
  const line = (text: string, row: number, className = "") =>
    node("text", { x: "10", y: String(18 + row * 16), ...(className && { class: className }) }, text);
  group.append(line(`${order}. ${attempt.node}${attempt.hedge ? " (hedge)" : ""}`, 0, "node"));
  group.append(line(attempt.outcome.replaceAll("_", " "), 1, "outcome"));
  group.append(
    line(
      `${Math.round(attempt.ms)} ms${attempt.firstTokenMs === undefined ? "" : `, first token ${Math.round(attempt.firstTokenMs)} ms`}`,
      2,
    ),
  );
  // Its confidence against the bar: the filled part is the confidence the bar was held to, the tick the bar.
  // An attempt that was not judged (the top rung, an error) has no gauge.
  const barWidth = width - 20;
  if (step.judged) {
    const { label, value } = step.judged;
    group.append(node("rect", { x: "10", y: String(CARD_HEIGHT - 16), width: String(barWidth), height: "6", rx: "3", class: "gauge" }));
    const fill = Math.max(0, Math.min(1, value)) * barWidth;
    group.append(node("rect", { x: "10", y: String(CARD_HEIGHT - 16), width: String(fill), height: "6", rx: "3", class: "confidence" }));
    const against = step.bar === undefined ? "" : ` against a bar of ${step.bar}`;
    group.append(node("title", {}, `${label} ${value.toFixed(2)}${against}`));
    // In figures too, not only the gauge: what a newcomer reads to see why it climbed.
    const verdict = step.bar === undefined ? "" : value < step.bar ? ` < bar ${step.bar}` : ` ≥ bar ${step.bar}`;
    group.append(line(`${label} ${value.toFixed(2)}${verdict}`, 3, "figures"));
  }
  if (step.bar !== undefined) {
    const at = String(10 + step.bar * barWidth);
    group.append(node("line", { x1: at, x2: at, y1: String(CARD_HEIGHT - 20), y2: String(CARD_HEIGHT - 6), class: "bar" }));
  }
  return group;
}

function node<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}
