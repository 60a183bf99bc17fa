import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { USAGE_RETENTION_DAYS, UsageLedger } from "../src/fabric/usage-ledger.ts";

const DAY_MS = 86_400_000;
const JULY_15 = Date.UTC(2026, 6, 15, 12);

interface Inside {
  /** A ledger on the object's SQLite whose queries are noted in `queries`. */
  ledger: UsageLedger;
  queries: string[];
  /** Another ledger on the same SQLite, as the object has after it wakes. */
  woken(): UsageLedger;
}

/** Runs `body` inside a pool object of its own (the Fabric's tables live beside the ledger's). */
function inObject<T>(name: string, body: (inside: Inside) => T): Promise<T> {
  const stub = env.FABRIC.get(env.FABRIC.idFromName(`ledger-test-${name}`));
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const queries: string[] = [];
    const counting = {
      exec: <R extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) => {
        queries.push(query);
        return sql.exec<R>(query, ...bindings);
      },
    };
    return body({ ledger: new UsageLedger(counting), queries, woken: () => new UsageLedger(sql) });
  });
}

describe("UsageLedger", () => {
  it("writes nothing per request: roll-ups wait in memory for one write, which every query makes first", async () => {
    const { writesBefore, rows } = await inObject("batched", ({ ledger, queries }) => {
      for (let i = 0; i < 50; i++) ledger.record({ keyId: "key_a", model: "small", promptTokens: 1, completionTokens: 1, at: JULY_15 });
      const writesBefore = queries.filter((q) => q.includes("INSERT")).length;
      return { writesBefore, rows: ledger.query({ keyId: "key_a" }) };
    });
    expect(writesBefore).toBe(0);
    expect(rows).toMatchObject([{ date: "2026-07-15", requests: 50, promptTokens: 50, completionTokens: 50 }]);
  });

  it("rolls requests up by UTC day, key and model", async () => {
    const rows = await inObject("roll-up", ({ ledger }) => {
      ledger.record({ keyId: "key_b", model: "small", promptTokens: 5, completionTokens: 6, at: JULY_15 });
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 10, completionTokens: 20, at: JULY_15 });
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 1, completionTokens: 2, at: JULY_15 + 3_600_000 });
      ledger.record({ keyId: "key_a", model: "large", promptTokens: 7, completionTokens: 0, at: JULY_15 });
      // 23:59:59.999 is still the 15th; midnight is the 16th.
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 4, completionTokens: 4, at: Date.UTC(2026, 6, 15, 23, 59, 59, 999) });
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 100, completionTokens: 200, at: Date.UTC(2026, 6, 16) });
      return ledger.query();
    });
    const zero = { compute: 0, cost: 0 };
    expect(rows).toEqual([
      { date: "2026-07-15", keyId: "key_a", model: "large", requests: 1, promptTokens: 7, completionTokens: 0, ...zero },
      { date: "2026-07-15", keyId: "key_a", model: "small", requests: 3, promptTokens: 15, completionTokens: 26, ...zero },
      { date: "2026-07-15", keyId: "key_b", model: "small", requests: 1, promptTokens: 5, completionTokens: 6, ...zero },
      { date: "2026-07-16", keyId: "key_a", model: "small", requests: 1, promptTokens: 100, completionTokens: 200, ...zero },
    ]);
  });

  it("adds compute as parameters × tokens and cost at the price per million tokens", async () => {
    const [row] = await inObject("cost", ({ ledger }) => {
      const model = { keyId: "key_a", model: "rung-1b", parameters: 1.2e9, pricePerMillionTokens: 0.5, at: JULY_15 };
      ledger.record({ ...model, promptTokens: 100, completionTokens: 50 });
      ledger.record({ ...model, promptTokens: 1_000_000, completionTokens: 0 });
      return ledger.query();
    });
    expect(row).toMatchObject({ requests: 2, promptTokens: 1_000_100, completionTokens: 50 });
    expect(row?.compute).toBeCloseTo(1.2e9 * 1_000_150, -3);
    expect(row?.cost).toBeCloseTo(0.5 * (1_000_150 / 1_000_000), 12);
  });

  it("sums a key's tokens in the UTC month, across the boundary, without a query per call", async () => {
    const seen = await inObject("month", ({ ledger, queries, woken }) => {
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 60, completionTokens: 40, at: Date.UTC(2026, 6, 1) });
      ledger.record({ keyId: "key_a", model: "large", promptTokens: 10, completionTokens: 20, at: Date.UTC(2026, 6, 31, 23, 59, 59) });
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 5, completionTokens: 0, at: Date.UTC(2026, 7, 1) });
      ledger.record({ keyId: "key_b", model: "small", promptTokens: 1000, completionTokens: 0, at: Date.UTC(2026, 6, 10) });
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 999, completionTokens: 0, at: Date.UTC(2026, 5, 30, 23, 59) });

      const july = ledger.monthTokens("key_a", JULY_15);
      const before = queries.length;
      const again = ledger.monthTokens("key_a", JULY_15 + DAY_MS);
      const asked = queries.length - before;
      // Recording keeps the month current without reading it back.
      ledger.record({ keyId: "key_a", model: "small", promptTokens: 3, completionTokens: 4, at: JULY_15 });
      const afterRecord = ledger.monthTokens("key_a", JULY_15);
      const readsAfterRecord = queries.slice(before + asked).filter((query) => query.startsWith("SELECT")).length;
      return {
        july,
        again,
        asked,
        afterRecord,
        readsAfterRecord,
        august: ledger.monthTokens("key_a", Date.UTC(2026, 7, 20)),
        june: ledger.monthTokens("key_a", Date.UTC(2026, 5, 1)),
        other: ledger.monthTokens("key_b", JULY_15),
        none: ledger.monthTokens("key_none", JULY_15),
        woken: woken().monthTokens("key_a", JULY_15),
      };
    });
    expect(seen).toEqual({
      july: 130,
      again: 130,
      asked: 0,
      afterRecord: 137,
      readsAfterRecord: 0,
      august: 5,
      june: 999,
      other: 1000,
      none: 0,
      woken: 137,
    });
  });

  it("filters by key and by inclusive dates", async () => {
    const seen = await inObject("query", ({ ledger }) => {
      for (const day of [13, 14, 15, 16]) {
        for (const keyId of ["key_a", "key_b"]) {
          ledger.record({ keyId, model: "small", promptTokens: day, completionTokens: 1, at: Date.UTC(2026, 6, day, 8) });
        }
      }
      const brief = (rows: ReturnType<UsageLedger["query"]>) => rows.map((row) => `${row.date} ${row.keyId}`);
      return {
        key: brief(ledger.query({ keyId: "key_b" })),
        range: brief(ledger.query({ from: "2026-07-14", to: "2026-07-15" })),
        both: brief(ledger.query({ keyId: "key_a", from: "2026-07-16" })),
        until: brief(ledger.query({ keyId: "key_a", to: "2026-07-13" })),
        empty: brief(ledger.query({ keyId: "key_none" })),
        badDate: (() => {
          try {
            ledger.query({ from: "July 14" });
            return "accepted";
          } catch (error) {
            return error instanceof RangeError ? "RangeError" : String(error);
          }
        })(),
      };
    });
    expect(seen).toEqual({
      key: ["2026-07-13 key_b", "2026-07-14 key_b", "2026-07-15 key_b", "2026-07-16 key_b"],
      range: ["2026-07-14 key_a", "2026-07-14 key_b", "2026-07-15 key_a", "2026-07-15 key_b"],
      both: ["2026-07-16 key_a"],
      until: ["2026-07-13 key_a"],
      empty: [],
      badDate: "RangeError",
    });
  });

  it(`drops days older than ${USAGE_RETENTION_DAYS} days when a new day is recorded`, async () => {
    const dates = await inObject("retention", ({ ledger }) => {
      const today = JULY_15;
      const entry = { keyId: "key_a", model: "small", promptTokens: 1, completionTokens: 1 };
      ledger.record({ ...entry, at: today - (USAGE_RETENTION_DAYS + 100) * DAY_MS });
      ledger.record({ ...entry, at: today - (USAGE_RETENTION_DAYS + 1) * DAY_MS });
      ledger.record({ ...entry, at: today - USAGE_RETENTION_DAYS * DAY_MS });
      ledger.record({ ...entry, at: today - 1 * DAY_MS });
      const before = ledger.query().length;
      ledger.record({ ...entry, at: today });
      return { before, after: ledger.query().map((row) => row.date) };
    });
    // Recording yesterday already dropped what was over 400 days old then (all but the day 401 days ago).
    expect(dates.before).toBe(3);
    expect(dates.after).toEqual([new Date(JULY_15 - USAGE_RETENTION_DAYS * DAY_MS).toISOString().slice(0, 10), "2026-07-14", "2026-07-15"]);
  });
});
