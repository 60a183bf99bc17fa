import { type Labels, labelKey, type MetricFamily } from "./metric-family.ts";

/** The Content-Type of the page `renderPrometheus` writes. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * The Prometheus text exposition format, version 0.0.4: per family its
 * `# HELP` and `# TYPE` lines, then its samples. Families are written in
 * name order and each family's samples in label order, so the page reads the
 * same whichever order the data came in. A family's samples must have
 * distinct label sets (`mergeFamilies` makes them so). A bad name, a counter
 * not named `_total`, or a histogram whose counts do not fit its bounds is a
 * bug in the code that made the family, and throws.
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of [...families].sort((a, b) => compare(a.name, b.name))) {
    check(family);
    if (seen.has(family.name)) throw new Error(`metric family ${family.name} is written twice; merge the lists first`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of sortedByLabels(family.samples)) {
        let cumulative = 0;
        family.bounds.forEach((bound, i) => {
          cumulative += sample.counts[i]!;
          lines.push(`${family.name}_bucket${labelText(sample.labels, formatValue(bound))} ${formatValue(cumulative)}`);
        });
        cumulative += sample.counts[family.bounds.length]!;
        lines.push(`${family.name}_bucket${labelText(sample.labels, "+Inf")} ${formatValue(cumulative)}`);
        lines.push(`${family.name}_sum${labelText(sample.labels)} ${formatValue(sample.sum)}`);
        lines.push(`${family.name}_count${labelText(sample.labels)} ${formatValue(cumulative)}`);
      }
    } else {
      for (const sample of sortedByLabels(family.samples))
        lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** A sample value as Prometheus reads it: Go's float syntax, with `+Inf`, `-Inf` and `NaN` spelt its way. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** A label value between its quotes: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** HELP text: backslash and newline escaped (a quote needs none there). */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

function labelText(labels: Labels, le?: string): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  if (le !== undefined) pairs.push(`le="${le}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function sortedByLabels<T extends { labels: Labels }>(samples: readonly T[]): T[] {
  return samples
    .map((sample) => ({ sample, key: labelKey(sample.labels) }))
    .sort((a, b) => compare(a.key, b.key))
    .map(({ sample }) => sample);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function check(family: MetricFamily): void {
  const { name } = family;
  if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
  if (family.type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must be named *_total`);
  for (const sample of family.samples) {
    for (const label of Object.keys(sample.labels)) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) throw new Error(`bad label name ${JSON.stringify(label)} in ${name}`);
      if (label === "le" && family.type === "histogram") throw new Error(`histogram ${name} may not have its own le label`);
    }
  }
  if (family.type !== "histogram") return;
  family.bounds.forEach((bound, i) => {
    if (!Number.isFinite(bound) || (i > 0 && bound <= family.bounds[i - 1]!)) {
      throw new Error(`histogram ${name}: bounds must be finite and increasing`);
    }
  });
  for (const sample of family.samples) {
    if (sample.counts.length !== family.bounds.length + 1) {
      throw new Error(`histogram ${name}: ${sample.counts.length} counts for ${family.bounds.length} bounds (expected one more)`);
    }
  }
}
