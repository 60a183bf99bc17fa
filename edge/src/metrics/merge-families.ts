import { labelKey, type MetricFamily } from "./metric-family.ts";

/**
 * One list of families out of several (one per pool's object): families of
 * the same name become one, and samples with the same labels add up (counts,
 * sums and bucket counts; gauges too, which is right for the counts and
 * depths this codebase exposes). A family that cannot be added to the first
 * of its name (another type, or a histogram with other bounds: objects of two
 * versions during a deploy) is left out rather than written wrong. The result
 * is in name order and shares no arrays with the input.
 */
export function mergeFamilies(lists: readonly (readonly MetricFamily[])[]): MetricFamily[] {
  const merged = new Map<string, { family: MetricFamily; byLabels: Map<string, number> }>();
  for (const list of lists) {
    for (const family of list) {
      let into = merged.get(family.name);
      if (!into) {
        into = { family: emptyCopy(family), byLabels: new Map() };
        merged.set(family.name, into);
      } else if (!compatible(into.family, family)) continue;
      add(into.family, into.byLabels, family);
    }
  }
  return [...merged.values()].map(({ family }) => family).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function emptyCopy(family: MetricFamily): MetricFamily {
  const { name, help } = family;
  return family.type === "histogram"
    ? { name, help, type: "histogram", bounds: [...family.bounds], samples: [] }
    : { name, help, type: family.type, samples: [] };
}

function compatible(a: MetricFamily, b: MetricFamily): boolean {
  if (a.type !== b.type) return false;
  if (a.type !== "histogram" || b.type !== "histogram") return true;
  return a.bounds.length === b.bounds.length && a.bounds.every((bound, i) => bound === b.bounds[i]);
}

/** Adds `from`'s samples into `into`, whose sample of each label key sits at `byLabels`' index. */
function add(into: MetricFamily, byLabels: Map<string, number>, from: MetricFamily): void {
  if (into.type === "histogram" && from.type === "histogram") {
    for (const sample of from.samples) {
      const key = labelKey(sample.labels);
      const at = byLabels.get(key);
      if (at === undefined) {
        byLabels.set(key, into.samples.length);
        into.samples.push({ labels: { ...sample.labels }, counts: [...sample.counts], sum: sample.sum });
        continue;
      }
      const target = into.samples[at]!;
      target.sum += sample.sum;
      target.counts = target.counts.map((count, i) => count + (sample.counts[i] ?? 0));
    }
  } else if (into.type !== "histogram" && from.type !== "histogram") {
    for (const sample of from.samples) {
      const key = labelKey(sample.labels);
      const at = byLabels.get(key);
      if (at === undefined) {
        byLabels.set(key, into.samples.length);
        into.samples.push({ labels: { ...sample.labels }, value: sample.value });
      } else into.samples[at]!.value += sample.value;
    }
  }
}
