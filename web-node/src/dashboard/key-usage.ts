import { z } from "zod";

/** The fields of `GET /admin/keys` the page reads (the admin API's KeyRecord, edge/src/keys/key-record.ts). */
export const keyListSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      pool: z.string(),
      tiers: z.array(z.string()),
      rpm: z.number().nullable(),
      tpm: z.number().nullable(),
      concurrency: z.number().nullable(),
      monthlyTokens: z.number().nullable(),
      lastUsedAt: z.string().optional(),
    }),
  ),
});
export type KeyInfo = z.infer<typeof keyListSchema>["data"][number];

/** The fields of `GET /admin/usage` the page reads (a row per day, key and model). */
export const usageListSchema = z.object({
  data: z.array(
    z.object({
      date: z.string(),
      keyId: z.string(),
      requests: z.number(),
      promptTokens: z.number(),
      completionTokens: z.number(),
      cost: z.number(),
    }),
  ),
});
export type UsageRow = z.infer<typeof usageListSchema>["data"][number];

/** One key's month so far, and how close it is to its monthly budget. */
export interface KeyUsage {
  key: KeyInfo;
  requests: number;
  tokens: number;
  todayTokens: number;
  cost: number;
  /** Of the monthly token budget, the share used (0–1, may pass 1 by a request's worth); undefined without a budget. */
  monthlyUsed: number | undefined;
}

/**
 * Each key with its usage this calendar month (UTC), busiest first. Keys
 * without a row (unused, or static keys absent from the list) are listed at 0;
 * rows of keys no longer listed (revoked) are left out.
 */
export function keyUsage(keys: readonly KeyInfo[], rows: readonly UsageRow[], today: string): KeyUsage[] {
  const month = today.slice(0, 7);
  return keys
    .map((key) => {
      const mine = rows.filter((row) => row.keyId === key.id && row.date.startsWith(month));
      const tokensOf = (list: readonly UsageRow[]) => list.reduce((sum, row) => sum + row.promptTokens + row.completionTokens, 0);
      const tokens = tokensOf(mine);
      return {
        key,
        requests: mine.reduce((sum, row) => sum + row.requests, 0),
        tokens,
        todayTokens: tokensOf(mine.filter((row) => row.date === today)),
        cost: mine.reduce((sum, row) => sum + row.cost, 0),
        monthlyUsed: key.monthlyTokens === null ? undefined : tokens / key.monthlyTokens,
      };
    })
    .sort((a, b) => b.tokens - a.tokens || a.key.name.localeCompare(b.key.name));
}
