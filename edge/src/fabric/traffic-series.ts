import { latencyBucketOf, type TrafficMinute } from "@rung/shared/protocol";

/** Where the series is kept, so a reloaded dashboard (or a woken object) still shows the last hours; written at most this often. */
const TRAFFIC_KEY = "dashboard-traffic";
const SAVE_MS = 5_000;
/** Two hours kept: the dashboard shows the last one. */
const KEEP_MINUTES = 120;
/** Models per minute before the rest fold into `other`: a client that names a thousand models cannot grow storage. */
const MAX_MODELS_PER_MINUTE = 24;
const OTHER = "other";

/** What a request's end adds to its model's minute. */
export interface TrafficEnd {
  model: string;
  status: number;
  totalMs: number;
  completionTokens: number;
  escalations: number;
}

/**
 * Traffic per minute per model, for the dashboard's charts: bounded (hours ×
 * models) and kept in the object's storage, written in batches because a
 * storage write holds answers behind the output gate.
 */
export class TrafficSeries {
  /** Keyed `minute|model`, oldest first (insertion order is time order). */
  readonly #rows = new Map<string, TrafficMinute>();
  readonly #modelsIn = new Map<number, number>();
  #saving: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly storage: DurableObjectStorage) {
    for (const row of storage.kv.get<TrafficMinute[]>(TRAFFIC_KEY) ?? []) this.#put(row);
  }

  /** Counts the request in its model's minute now; returns that minute as it stands. */
  record(end: TrafficEnd, now = Date.now()): TrafficMinute {
    const minute = Math.floor(now / 60_000);
    const row = this.#rowOf(minute, end.model);
    row.requests++;
    if (end.status === 200) row.answered++;
    else row.errors++;
    row.completionTokens += end.completionTokens;
    row.escalations += end.escalations;
    const bucket = latencyBucketOf(end.totalMs);
    row.latency[bucket] = (row.latency[bucket] ?? 0) + 1;
    this.#changed();
    return row;
  }

  /** The minutes kept, oldest first. */
  rows(now = Date.now()): TrafficMinute[] {
    this.#prune(Math.floor(now / 60_000));
    return [...this.#rows.values()];
  }

  #rowOf(minute: number, model: string): TrafficMinute {
    const existing = this.#rows.get(`${minute}|${model}`);
    if (existing) return existing;
    this.#prune(minute);
    const folded = (this.#modelsIn.get(minute) ?? 0) >= MAX_MODELS_PER_MINUTE ? OTHER : model;
    const row = this.#rows.get(`${minute}|${folded}`) ?? {
      minute,
      model: folded,
      requests: 0,
      answered: 0,
      completionTokens: 0,
      escalations: 0,
      errors: 0,
      latency: {},
    };
    this.#put(row);
    return row;
  }

  #put(row: TrafficMinute): void {
    const key = `${row.minute}|${row.model}`;
    if (this.#rows.has(key)) return;
    this.#rows.set(key, row);
    this.#modelsIn.set(row.minute, (this.#modelsIn.get(row.minute) ?? 0) + 1);
  }

  #prune(minute: number): void {
    for (const [key, row] of this.#rows) {
      if (row.minute > minute - KEEP_MINUTES) break;
      this.#rows.delete(key);
      this.#modelsIn.delete(row.minute);
    }
  }

  #changed(): void {
    this.#saving ??= setTimeout(() => {
      this.#saving = undefined;
      this.storage.kv.put(TRAFFIC_KEY, this.rows());
    }, SAVE_MS);
  }
}
