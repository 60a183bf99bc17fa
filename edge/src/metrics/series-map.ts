import type { Labels } from "./metric-family.ts";

/** The label value that stands for every value past the cap. */
export const OTHER = "other";

/** Label sets a family holds before new ones fold into `other`. */
export const DEFAULT_MAX_SERIES = 1_000;

export interface SeriesOptions {
  /** Distinct label sets kept as they are; default `DEFAULT_MAX_SERIES`. */
  maxSeries?: number;
  /**
   * What a new label set becomes once the cap is reached: its unbounded
   * labels set to `other`. Default: every label `other`. The folded sets are
   * kept past the cap, so a family holds at most `maxSeries` plus their number.
   */
  fold?: (labels: Labels) => Labels;
}

/** Folds the named labels to `other` and keeps the rest: `foldLabels("model")` keeps `status` apart. */
export function foldLabels(...names: string[]): (labels: Labels) => Labels {
  return (labels) => Object.fromEntries(Object.entries(labels).map(([name, value]) => [name, names.includes(name) ? OTHER : value]));
}

function foldAll(labels: Labels): Labels {
  return Object.fromEntries(Object.keys(labels).map((name) => [name, OTHER]));
}

/**
 * A value per label set, with a bound on how many label sets there are: the
 * labels come from models and keys, which an operator names, but a scrape page
 * must not grow without end, so past `maxSeries` a new label set shares its
 * folded set's value.
 */
export class SeriesMap<T> {
  readonly #series = new Map<string, { labels: Labels; value: T }>();
  readonly #maxSeries: number;
  readonly #fold: (labels: Labels) => Labels;

  constructor(
    private readonly create: () => T,
    options: SeriesOptions = {},
  ) {
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    this.#fold = options.fold ?? foldAll;
  }

  get size(): number {
    return this.#series.size;
  }

  /** The value of the label set (made on first use), or of its folded set once the cap is reached. */
  get(labels: Labels): T {
    const key = seriesKey(labels);
    const found = this.#series.get(key);
    if (found) return found.value;
    if (this.#series.size < this.#maxSeries) return this.#add(key, labels);
    const folded = this.#fold(labels);
    const foldedKey = seriesKey(folded);
    return this.#series.get(foldedKey)?.value ?? this.#add(foldedKey, folded);
  }

  entries(): { labels: Labels; value: T }[] {
    return [...this.#series.values()];
  }

  #add(key: string, labels: Labels): T {
    const value = this.create();
    this.#series.set(key, { labels: { ...labels }, value });
    return value;
  }
}

/**
 * One string per label set, whatever the order of its names. A request observes about seven
 * series as it ends, so this skips labelKey's JSON (which also orders the scrape page): each
 * name and value is prefixed by its length, which keeps different sets apart.
 */
export function seriesKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let key = "";
  for (const name of names) {
    const value = labels[name]!;
    key += `${name.length}:${name}${value.length}:${value}`;
  }
  return key;
}
