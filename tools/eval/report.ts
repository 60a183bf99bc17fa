/** The evaluation's printed table and its quality-versus-compute curve (hand-written SVG). */

import { TARGET } from "./calibrate.ts";
import type { TaskResult } from "./evaluate.ts";
import type { PointSummary } from "./pinned.ts";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (x: number | null) => (x === null || Number.isNaN(x) ? "–" : `${x.toFixed(1)}`);
const shares = (p: PointSummary) => p.share.map((s) => pct(s)).join(" / ");

export function taskTable(result: TaskResult): string {
  const lines: string[] = [];
  const say = (line = "") => lines.push(line);
  const { test } = result;
  const largest = test.largestAccuracy;
  say(`\n## ${result.task}: ${result.description}`);
  say(
    `rungs: ${result.rungs.map((r) => `${r.rung} = ${r.id} (${r.parameters.toLocaleString("en-US")} params${r.catalogParameters !== null && r.catalogParameters !== r.parameters ? `; catalog says ${r.catalogParameters.toLocaleString("en-US")}` : ""})`).join(", ")}`,
  );
  say(
    `pinned accuracy over both halves through the edge vs the trainer's held-out accuracy in PyTorch (manifest): ${result.rungs.map((r) => `${r.rung} ${pct(r.edgeAccuracyBothHalves)} vs ${r.manifestHeldoutAccuracy === null ? "–" : pct(r.manifestHeldoutAccuracy)}`).join(", ")}`,
  );
  say(`held-out problems: ${result.problems.calibration} calibration, ${result.problems.test} test (disjoint, split by prompt hash)`);
  say(
    `calibration half, pinned accuracy: ${result.calibration.pinned.map((p, r) => `${result.rungs[r]!.rung} ${pct(p.accuracy)} (AUROC of confidence ${result.calibration.auroc[r]?.toFixed(3) ?? "–"})`).join(", ")}`,
  );
  say(
    `this task's own calibrated threshold: ${result.calibration.own.threshold} (calibration: accuracy ${pct(result.calibration.own.chosen.accuracy)}, compute ${pct(result.calibration.own.chosen.relativeCompute)} of largest)`,
  );
  say(
    `\nTEST half (${result.problems.test} problems). Compute = parameters × (prompt + generated tokens), abandoned attempts included, relative to always-${result.rungs.at(-1)!.rung}.`,
  );
  say(
    `target: accuracy ≥ ${pct(TARGET.accuracyOfLargest)} of ${result.rungs.at(-1)!.rung} (≥ ${pct(TARGET.accuracyOfLargest * largest)}), ≥ ${pct(TARGET.belowTopShare)} answered below the top rung, compute ≤ ${TARGET.computeOfOracle}× the oracle's (${pct(TARGET.computeOfOracle * test.oracle.relativeCompute)})`,
  );
  say(
    `| policy | accuracy | of largest | answered s / m / l | compute | escal./req | median ms | random at same share: acc (5–95%), compute | target |`,
  );
  say(`|---|---|---|---|---|---|---|---|---|`);
  for (const [r, p] of test.pinned.entries()) {
    say(
      `| always-${result.rungs[r]!.rung} (pinned) | ${pct(p.accuracy)} | ${pct(p.accuracy / largest)} | ${shares(p)} | ${pct(p.relativeCompute)} | 0 | ${ms(p.medianMs)} | | |`,
    );
  }
  for (const a of test.auto) {
    const rnd = a.random;
    const verdict = a.target.both
      ? "MEETS"
      : `no (${[!a.target.accuracy && "accuracy", !a.target.belowTop && "share below top", !a.target.compute && "compute"].filter(Boolean).join(", ")})`;
    say(
      `| ${a.label} | ${pct(a.accuracy)} | ${pct(a.accuracy / largest)} | ${shares(a)} | ${pct(a.relativeCompute)} | ${a.escalationsPerRequest.toFixed(2)} | ${ms(a.medianMs)} | ${pct(rnd.accuracy)} (${pct(rnd.accuracyRange[0])}–${pct(rnd.accuracyRange[1])}), ${pct(rnd.relativeCompute)} | ${verdict} |`,
    );
  }
  say(
    `| oracle (smallest right rung, else largest) | ${pct(test.oracle.accuracy)} | ${pct(test.oracle.accuracy / largest)} | ${shares(test.oracle)} | ${pct(test.oracle.relativeCompute)} | – | – | | |`,
  );
  say(
    `test half, AUROC of each rung's mean confidence for its own correctness: ${test.auroc.map((x, r) => `${result.rungs[r]!.rung} ${x?.toFixed(3) ?? "–"}`).join(", ")}`,
  );
  const odd = test.auto.filter(
    (a) => a.oddAttempts.length || a.notStartedOnSmallest || a.disagreesWithPinned || a.disagreesWithinRounding || a.textDiffersFromPinned,
  );
  for (const a of odd) {
    say(
      `! ${a.label}: ${a.notStartedOnSmallest} not started on the smallest rung, ${a.disagreesWithPinned} answered on another rung than the pinned confidences predict ` +
        `(and ${a.disagreesWithinRounding} more with a confidence within the trace's 0.0005 rounding of the threshold), ` +
        `${a.textDiffersFromPinned} texts differ from the same rung pinned${a.oddAttempts.length ? `; odd attempts: ${a.oddAttempts.slice(0, 5).join("; ")}` : ""}`,
    );
  }
  if (odd.length === 0)
    say(
      `consistency: every auto request started on ${result.rungs[0]!.rung}, answered on the rung its pinned confidences predict, with the pinned rung's exact text; no errors or hedges`,
    );
  return lines.join("\n");
}

// ---- the curve ------------------------------------------------------------------------

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function curveSvg(result: TaskResult): string {
  const W = 860;
  const H = 520;
  const m = { left: 70, right: 260, top: 50, bottom: 60 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const { test } = result;
  const all: PointSummary[] = [...test.pinned, ...test.auto, ...test.auto.map((a) => a.random), test.oracle];
  const xMax = Math.max(1.05, Math.ceil(Math.max(...all.map((p) => p.relativeCompute)) * 10) / 10 + 0.05);
  const yMinRaw = Math.min(...all.map((p) => p.accuracy));
  const yMin = Math.max(0, Math.floor((yMinRaw - 0.05) * 10) / 10);
  const yMax = 1;
  const X = (x: number) => m.left + (x / xMax) * pw;
  const Y = (y: number) => m.top + (1 - (y - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<text x="${m.left}" y="24" font-size="15" font-weight="600">${esc(`Quality vs compute: ${result.task} (test half, ${result.problems.test} held-out problems)`)}</text>`,
  );
  // grid and ticks
  const xStep = xMax > 2 ? 0.5 : xMax > 1.2 ? 0.2 : 0.1;
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    const px = X(x).toFixed(1);
    out.push(`<line x1="${px}" y1="${m.top}" x2="${px}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${px}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${Math.round(x * 100)}%</text>`);
  }
  const yStep = yMax - yMin > 0.5 ? 0.1 : 0.05;
  for (let y = yMin; y <= yMax + 1e-9; y += yStep) {
    const py = Y(y).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${py}" x2="${m.left + pw}" y2="${py}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${(Y(y) + 4).toFixed(1)}" text-anchor="end" fill="#333">${Math.round(y * 100)}%</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 16}" text-anchor="middle" font-size="13">compute relative to always-largest (parameters × tokens, abandoned attempts included)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">accuracy (exact match)</text>`,
  );
  // target band: accuracy ≥ 98% of largest
  const bar = TARGET.accuracyOfLargest * test.largestAccuracy;
  if (bar >= yMin) {
    out.push(
      `<line x1="${m.left}" y1="${Y(bar).toFixed(1)}" x2="${m.left + pw}" y2="${Y(bar).toFixed(1)}" stroke="#999" stroke-dasharray="2 3"/>`,
    );
    out.push(
      `<text x="${m.left + 4}" y="${(Y(bar) + 14).toFixed(1)}" fill="#666">${pct(TARGET.accuracyOfLargest)} of always-largest's accuracy</text>`,
    );
  }
  const colors = { auto: "#1f77b4", pinned: "#333333", random: "#d62728", oracle: "#2ca02c" };
  // random at same share: dashed line through hollow circles, in compute order
  const rnd = [...test.auto.filter((a) => !a.shippedWeights).map((a) => a.random)].sort((a, b) => a.relativeCompute - b.relativeCompute);
  out.push(
    `<polyline fill="none" stroke="${colors.random}" stroke-dasharray="5 4" points="${rnd.map((p) => `${X(p.relativeCompute).toFixed(1)},${Y(p.accuracy).toFixed(1)}`).join(" ")}"/>`,
  );
  for (const p of rnd)
    out.push(
      `<circle cx="${X(p.relativeCompute).toFixed(1)}" cy="${Y(p.accuracy).toFixed(1)}" r="4" fill="#fff" stroke="${colors.random}" stroke-width="1.5"><title>${esc(`${p.label}: accuracy ${pct(p.accuracy)}, compute ${pct(p.relativeCompute)}`)}</title></circle>`,
    );
  // pinned rungs: line s–m–l and squares
  out.push(
    `<polyline fill="none" stroke="${colors.pinned}" stroke-width="1" points="${test.pinned.map((p) => `${X(p.relativeCompute).toFixed(1)},${Y(p.accuracy).toFixed(1)}`).join(" ")}"/>`,
  );
  test.pinned.forEach((p, r) => {
    const [cx, cy] = [X(p.relativeCompute), Y(p.accuracy)];
    out.push(
      `<rect x="${(cx - 5).toFixed(1)}" y="${(cy - 5).toFixed(1)}" width="10" height="10" fill="${colors.pinned}"><title>${esc(`${p.label}: accuracy ${pct(p.accuracy)}, compute ${pct(p.relativeCompute)}`)}</title></rect>`,
    );
    out.push(
      `<text x="${(cx + 8).toFixed(1)}" y="${(cy - 8 - (r % 2) * 12).toFixed(1)}" fill="${colors.pinned}">always-${esc(result.rungs[r]!.rung)}</text>`,
    );
  });
  // auto thresholds: solid line through filled circles, labelled with the threshold
  const autos = [...test.auto]
    .filter((a) => !a.shippedWeights)
    .sort((a, b) => a.relativeCompute - b.relativeCompute || a.threshold - b.threshold);
  out.push(
    `<polyline fill="none" stroke="${colors.auto}" stroke-width="2" points="${autos.map((p) => `${X(p.relativeCompute).toFixed(1)},${Y(p.accuracy).toFixed(1)}`).join(" ")}"/>`,
  );
  const labelled = new Set<string>();
  for (const a of autos) {
    const [cx, cy] = [X(a.relativeCompute), Y(a.accuracy)];
    const recommended = a.label.includes("recommended");
    out.push(
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${recommended ? 6 : 4.5}" fill="${colors.auto}" stroke="${recommended ? "#000" : "none"}" stroke-width="1.5"><title>${esc(`${a.label}: accuracy ${pct(a.accuracy)}, compute ${pct(a.relativeCompute)}, answered s/m/l ${shares(a)}`)}</title></circle>`,
    );
    const key = `${Math.round(cx / 12)},${Math.round(cy / 12)}`;
    if (labelled.has(key)) continue;
    labelled.add(key);
    out.push(
      `<text x="${(cx - 6).toFixed(1)}" y="${(cy - 8).toFixed(1)}" text-anchor="end" fill="${colors.auto}" font-size="11">${a.label.includes("default") ? `${a.threshold} (default)` : `${a.threshold}${recommended ? " ★" : ""}`}</text>`,
    );
  }
  // oracle: diamond
  const [ox, oy] = [X(test.oracle.relativeCompute), Y(test.oracle.accuracy)];
  out.push(
    `<path d="M ${ox.toFixed(1)} ${(oy - 7).toFixed(1)} L ${(ox + 7).toFixed(1)} ${oy.toFixed(1)} L ${ox.toFixed(1)} ${(oy + 7).toFixed(1)} L ${(ox - 7).toFixed(1)} ${oy.toFixed(1)} Z" fill="${colors.oracle}"><title>${esc(`oracle: accuracy ${pct(test.oracle.accuracy)}, compute ${pct(test.oracle.relativeCompute)}`)}</title></path>`,
  );
  // legend
  const lx = m.left + pw + 18;
  let ly = m.top + 10;
  const legend = (draw: string, text: string) => {
    out.push(draw);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(text)}</text>`);
    ly += 24;
  };
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colors.auto}" stroke-width="2"/><circle cx="${lx + 11}" cy="${ly}" r="4.5" fill="${colors.auto}"/>`,
    "auto (label: threshold)",
  );
  legend(`<circle cx="${lx + 11}" cy="${ly}" r="6" fill="${colors.auto}" stroke="#000" stroke-width="1.5"/>`, "★ recommended default");
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colors.pinned}"/><rect x="${lx + 6}" y="${ly - 5}" width="10" height="10" fill="${colors.pinned}"/>`,
    "pinned rung (always-s/m/l)",
  );
  legend(
    `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colors.random}" stroke-dasharray="5 4"/><circle cx="${lx + 11}" cy="${ly}" r="4" fill="#fff" stroke="${colors.random}" stroke-width="1.5"/>`,
    "random at auto's share",
  );
  legend(
    `<path d="M ${lx + 11} ${ly - 7} L ${lx + 18} ${ly} L ${lx + 11} ${ly + 7} L ${lx + 4} ${ly} Z" fill="${colors.oracle}"/>`,
    "oracle",
  );
  legend(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="#999" stroke-dasharray="2 3"/>`, "target accuracy bar");
  ly += 10;
  const notes = [
    "parameters per rung:",
    ...result.rungs.map((r) => `  ${r.rung}: ${r.id}, ${r.parameters.toLocaleString("en-US")}`),
    `always-l accuracy ${pct(test.largestAccuracy)}`,
    `oracle ${pct(test.oracle.accuracy)} at ${pct(test.oracle.relativeCompute)}`,
  ];
  for (const note of notes) {
    out.push(`<text x="${lx}" y="${ly}" fill="#555" font-size="11">${esc(note)}</text>`);
    ly += 16;
  }
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
