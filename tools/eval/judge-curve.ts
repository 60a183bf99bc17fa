/**
 * One task's judges as curves of accuracy against compute on its test half: each judge swept
 * over the calibration grid (replayed from the pinned runs), its calibrated bar marked, beside
 * the pinned rungs, the oracle, the perfect-judge ladder and random routing at the default
 * judge's shares. Hand-written SVG, like the evaluation's other curve.
 */
import { oracle, perfectJudge, randomAtShare } from "./baselines.ts";
import { CALIBRATION_GRID, TARGET } from "./calibrate.ts";
import type { Phase1 } from "./evaluate.ts";
import type { JudgeRow } from "./judge-report.ts";
import { scorer } from "./judges.ts";
import { pinnedSummary } from "./pinned.ts";
import { simulate } from "./simulate.ts";

const COLORS = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#aec7e8", "#000000", "#2ca02c"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Point {
  x: number;
  y: number;
  title: string;
}

export function judgeCurveSvg(phase: Phase1, rows: JudgeRow[], chosen: string): string {
  const p = phase.testPinned;
  const n = p.runs[0]!.length;
  const curves = rows.map((row) => {
    const score = scorer(row.judge);
    const points = CALIBRATION_GRID.map((bar) => simulate(p, bar, score))
      .map((s) => ({
        x: s.relativeCompute,
        y: s.accuracy,
        title: `${row.name} @ ${s.threshold}: ${pct(s.accuracy)} at ${pct(s.relativeCompute)}`,
      }))
      .sort((a, b) => a.x - b.x || a.y - b.y);
    const at = simulate(p, row.bar, score);
    return { row, points, at: { x: at.relativeCompute, y: at.accuracy, title: `${row.name} at its calibrated bar ${row.bar}` } };
  });
  const chosenRow = rows.find((r) => r.name === chosen)!;
  const randoms: Point[] = CALIBRATION_GRID.filter((_, i) => i % 5 === 0).map((bar) => {
    const s = simulate(p, bar, scorer(chosenRow.judge));
    const r = randomAtShare(
      "random",
      s.share.map((x) => Math.round(x * n)),
      p,
      200,
    );
    return { x: r.relativeCompute, y: r.accuracy, title: `random at ${chosen}'s shares @ ${bar}: ${pct(r.accuracy)}` };
  });
  const o = oracle(p);
  const perfect = perfectJudge(p);
  const pinned = p.ids.map((_, r) => pinnedSummary(p, r));
  const all = [
    ...curves.flatMap((c) => c.points),
    ...randoms,
    { x: o.relativeCompute, y: o.accuracy },
    ...pinned.map((s) => ({ x: s.relativeCompute, y: s.accuracy })),
  ];
  const W = 900;
  const H = 540;
  const m = { left: 70, right: 290, top: 50, bottom: 60 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xMax = Math.max(1.05, Math.ceil(Math.max(...all.map((q) => q.x)) * 10) / 10 + 0.05);
  const yMin = Math.max(0, Math.floor((Math.min(...all.map((q) => q.y)) - 0.05) * 10) / 10);
  const X = (x: number) => (m.left + (x / xMax) * pw).toFixed(1);
  const Y = (y: number) => (m.top + (1 - (y - yMin) / (1 - yMin)) * ph).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="15" font-weight="600">${esc(`Judges: ${phase.task.entry.name} (test half, ${n} held-out problems, replayed from pinned runs)`)}</text>`,
  ];
  for (let x = 0; x <= xMax + 1e-9; x += xMax > 2 ? 0.5 : 0.1) {
    out.push(`<line x1="${X(x)}" y1="${m.top}" x2="${X(x)}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${X(x)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${Math.round(x * 100)}%</text>`);
  }
  for (let y = yMin; y <= 1 + 1e-9; y += 1 - yMin > 0.5 ? 0.1 : 0.05) {
    out.push(`<line x1="${m.left}" y1="${Y(y)}" x2="${m.left + pw}" y2="${Y(y)}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 8}" y="${(Number(Y(y)) + 4).toFixed(1)}" text-anchor="end" fill="#333">${Math.round(y * 100)}%</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 16}" text-anchor="middle" font-size="13">compute relative to always-largest (parameters × tokens, every rung tried)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">accuracy (exact match)</text>`,
  );
  const bar = TARGET.accuracyOfLargest * pinned.at(-1)!.accuracy;
  if (bar >= yMin)
    out.push(`<line x1="${m.left}" y1="${Y(bar)}" x2="${m.left + pw}" y2="${Y(bar)}" stroke="#999" stroke-dasharray="2 3"/>`);
  const cap = TARGET.computeOfOracle * o.relativeCompute;
  out.push(`<line x1="${X(cap)}" y1="${m.top}" x2="${X(cap)}" y2="${m.top + ph}" stroke="#2ca02c" stroke-dasharray="2 3"/>`);
  const polyline = (points: Point[], stroke: string, extra = "") =>
    `<polyline fill="none" stroke="${stroke}" ${extra} points="${points.map((q) => `${X(q.x)},${Y(q.y)}`).join(" ")}"/>`;
  out.push(
    polyline(
      [...randoms].sort((a, b) => a.x - b.x),
      "#d62728",
      'stroke-dasharray="5 4"',
    ),
  );
  out.push(
    polyline(
      pinned.map((s) => ({ x: s.relativeCompute, y: s.accuracy, title: s.label })),
      "#333",
    ),
  );
  for (const s of pinned)
    out.push(
      `<rect x="${Number(X(s.relativeCompute)) - 5}" y="${Number(Y(s.accuracy)) - 5}" width="10" height="10" fill="#333"><title>${esc(s.label)}</title></rect>`,
    );
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length]!;
    const bold = c.row.name === chosen;
    out.push(polyline(c.points, color, `stroke-width="${bold ? 2.5 : 1.2}" opacity="${bold ? 1 : 0.7}"`));
    out.push(
      `<circle cx="${X(c.at.x)}" cy="${Y(c.at.y)}" r="${bold ? 6 : 4}" fill="${color}" stroke="${bold ? "#000" : "none"}"><title>${esc(c.at.title)}</title></circle>`,
    );
  });
  const diamond = (x: number, y: number, fill: string, title: string) =>
    `<path d="M ${X(x)} ${Number(Y(y)) - 7} l 7 7 l -7 7 l -7 -7 Z" fill="${fill}"><title>${esc(title)}</title></path>`;
  out.push(diamond(o.relativeCompute, o.accuracy, "#2ca02c", `oracle: ${pct(o.accuracy)} at ${pct(o.relativeCompute)}`));
  out.push(
    diamond(
      perfect.relativeCompute,
      perfect.accuracy,
      "#98df8a",
      `perfect judge: ${pct(perfect.accuracy)} at ${pct(perfect.relativeCompute)}`,
    ),
  );
  const lx = m.left + pw + 16;
  let ly = m.top + 8;
  const legend = (mark: string, text: string) => {
    out.push(mark, `<text x="${lx + 28}" y="${ly + 4}">${esc(text)}</text>`);
    ly += 20;
  };
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length]!;
    legend(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="${c.row.name === chosen ? 2.5 : 1.2}"/>`,
      `${c.row.name}${c.row.name === chosen ? " (default)" : ""}`,
    );
  });
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="#d62728" stroke-dasharray="5 4"/>`,
    "random at the default's shares",
  );
  legend(`<rect x="${lx + 5}" y="${ly - 5}" width="10" height="10" fill="#333"/>`, "pinned rungs");
  legend(`<path d="M ${lx + 10} ${ly - 7} l 7 7 l -7 7 l -7 -7 Z" fill="#2ca02c"/>`, `oracle (${pct(o.relativeCompute)})`);
  legend(`<path d="M ${lx + 10} ${ly - 7} l 7 7 l -7 7 l -7 -7 Z" fill="#98df8a"/>`, `perfect judge (${pct(perfect.relativeCompute)})`);
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="#2ca02c" stroke-dasharray="2 3"/>`,
    `${TARGET.computeOfOracle}× oracle compute`,
  );
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="#999" stroke-dasharray="2 3"/>`,
    `${pct(TARGET.accuracyOfLargest)} of always-largest`,
  );
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
