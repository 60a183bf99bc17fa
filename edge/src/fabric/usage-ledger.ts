/** One request's usage, as the pool's object records it when the answer ends. */
export interface UsageEntry {
  keyId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** The model's parameter count; compute is parameters × tokens. Default 0. */
  parameters?: number;
  /** The operator's price in USD per million tokens (prompt and completion alike). Default 0. */
  pricePerMillionTokens?: number;
  /** When, in ms since the epoch; default now. It picks the UTC day the usage rolls up into. */
  at?: number;
}

/** One key's usage of one model on one UTC day. */
export interface UsageRow {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  keyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** Model parameters × tokens, summed. */
  compute: number;
  /** USD. */
  cost: number;
}

export interface UsageQuery {
  keyId?: string;
  /** First day, `YYYY-MM-DD` (UTC), inclusive. */
  from?: string;
  /** Last day, `YYYY-MM-DD` (UTC), inclusive. */
  to?: string;
}

/** Days of usage kept; older days go when a new day's first usage is recorded. */
export const USAGE_RETENTION_DAYS = 400;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

type StoredRow = {
  day: string;
  key_id: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  compute: number;
  cost: number;
};

/**
 * How long recorded usage may wait in memory before it is written. A write to
 * the object's storage holds back everything the object sends until it is
 * durable (the output gate): measured at about 2 ms on every request when each
 * request wrote its own row. Written a few times a minute instead, a crash of
 * the object loses at most this much usage.
 */
export const USAGE_FLUSH_MS = 5_000;

/**
 * Usage per key in the pool's object's SQLite, rolled up by UTC day, key and
 * model. Requests add to a roll-up in memory, written within `USAGE_FLUSH_MS`
 * (and before any query). Each key's tokens this month are kept in memory as
 * well, read from SQL once per key and month and kept current by `record`, so
 * admission asks no query per request.
 */
export class UsageLedger {
  /** Roll-ups not yet written, by day, key and model. */
  readonly #pending = new Map<string, StoredRow>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Per key: the month (`YYYY-MM`) and its tokens (prompt and completion). */
  readonly #months = new Map<string, { month: string; tokens: number }>();
  /** The latest day retention has been applied for. */
  #prunedDay = "";

  /** @param sql the object's `ctx.storage.sql` (only `exec` is used). */
  constructor(private readonly sql: Pick<SqlStorage, "exec">) {
    sql.exec(`CREATE TABLE IF NOT EXISTS usage_daily (
      day TEXT NOT NULL,
      key_id TEXT NOT NULL,
      model TEXT NOT NULL,
      requests INTEGER NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      compute REAL NOT NULL,
      cost REAL NOT NULL,
      PRIMARY KEY (day, key_id, model)
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS usage_daily_key ON usage_daily (key_id, day)");
  }

  /** Adds one request's usage to its day's roll-up. */
  record(entry: UsageEntry): void {
    const at = entry.at ?? Date.now();
    const day = utcDay(at);
    const prompt = count(entry.promptTokens);
    const completion = count(entry.completionTokens);
    const tokens = prompt + completion;
    const compute = tokens * (entry.parameters ?? 0);
    const cost = (tokens * (entry.pricePerMillionTokens ?? 0)) / 1_000_000;
    const rowKey = `${day}\n${entry.keyId}\n${entry.model}`;
    const pending = this.#pending.get(rowKey);
    if (pending) {
      pending.requests++;
      pending.prompt_tokens += prompt;
      pending.completion_tokens += completion;
      pending.compute += compute;
      pending.cost += cost;
    } else {
      this.#pending.set(rowKey, {
        day,
        key_id: entry.keyId,
        model: entry.model,
        requests: 1,
        prompt_tokens: prompt,
        completion_tokens: completion,
        compute,
        cost,
      });
    }
    this.#flushTimer ??= setTimeout(() => this.flush(), USAGE_FLUSH_MS);
    const cached = this.#months.get(entry.keyId);
    if (cached?.month === day.slice(0, 7)) cached.tokens += tokens;
  }

  /** Writes the roll-ups held in memory (one implicit transaction: no await between the statements). */
  flush(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const row of this.#pending.values()) {
      if (row.day > this.#prunedDay) {
        this.#prunedDay = row.day;
        this.sql.exec("DELETE FROM usage_daily WHERE day < ?", utcDay(Date.parse(row.day) - USAGE_RETENTION_DAYS * DAY_MS));
      }
      this.sql.exec(
        `INSERT INTO usage_daily (day, key_id, model, requests, prompt_tokens, completion_tokens, compute, cost)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, key_id, model) DO UPDATE SET
           requests = requests + excluded.requests,
           prompt_tokens = prompt_tokens + excluded.prompt_tokens,
           completion_tokens = completion_tokens + excluded.completion_tokens,
           compute = compute + excluded.compute,
           cost = cost + excluded.cost`,
        row.day,
        row.key_id,
        row.model,
        row.requests,
        row.prompt_tokens,
        row.completion_tokens,
        row.compute,
        row.cost,
      );
    }
    this.#pending.clear();
  }

  /** The key's prompt and completion tokens in the UTC month of `now`. */
  monthTokens(keyId: string, now = Date.now()): number {
    const month = utcDay(now).slice(0, 7);
    const cached = this.#months.get(keyId);
    if (cached?.month === month) return cached.tokens;
    // Read once per key and month: what is still in memory must be in the sum.
    this.flush();
    const first = `${month}-01`;
    const start = new Date(`${first}T00:00:00Z`);
    const next = utcDay(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const row = this.sql
      .exec<{ tokens: number | null }>(
        "SELECT SUM(prompt_tokens + completion_tokens) AS tokens FROM usage_daily WHERE key_id = ? AND day >= ? AND day < ?",
        keyId,
        first,
        next,
      )
      .one();
    const tokens = row.tokens ?? 0;
    this.#months.set(keyId, { month, tokens });
    return tokens;
  }

  /** Daily rows, ordered by date, key and model; `from` and `to` are inclusive. Throws a RangeError for a date not `YYYY-MM-DD`. */
  query(filter: UsageQuery = {}): UsageRow[] {
    this.flush();
    const where: string[] = [];
    const bindings: string[] = [];
    if (filter.keyId !== undefined) {
      where.push("key_id = ?");
      bindings.push(filter.keyId);
    }
    if (filter.from !== undefined) {
      where.push("day >= ?");
      bindings.push(checkedDate(filter.from));
    }
    if (filter.to !== undefined) {
      where.push("day <= ?");
      bindings.push(checkedDate(filter.to));
    }
    const clause = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    return this.sql
      .exec<StoredRow>(
        `SELECT day, key_id, model, requests, prompt_tokens, completion_tokens, compute, cost FROM usage_daily${clause} ORDER BY day, key_id, model`,
        ...bindings,
      )
      .toArray()
      .map((row) => ({
        date: row.day,
        keyId: row.key_id,
        model: row.model,
        requests: row.requests,
        promptTokens: row.prompt_tokens,
        completionTokens: row.completion_tokens,
        compute: row.compute,
        cost: row.cost,
      }));
  }
}

/** The last day asked for: every request asks for today's, and a Date and its ISO string per request showed in the profile (0.6% of the isolate's time). */
let lastDay = { from: 0, to: 0, day: "" };

function utcDay(ms: number): string {
  if (ms >= lastDay.from && ms < lastDay.to) return lastDay.day;
  const from = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
  lastDay = { from, to: from + DAY_MS, day: new Date(from).toISOString().slice(0, 10) };
  return lastDay.day;
}

/** A token count as stored: a whole number, never negative. */
function count(tokens: number): number {
  return tokens > 0 ? Math.round(tokens) : 0;
}

function checkedDate(date: string): string {
  if (!DATE.test(date)) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return date;
}
