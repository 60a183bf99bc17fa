import { z } from "zod";
import { wireErrorSchema } from "./wire-error.ts";

/**
 * The operator's dashboard feed: a WebSocket from the pool's object
 * (`GET /admin/dashboard/connect?pool=`). A browser cannot set headers on a
 * WebSocket, so the admin key is the first frame. Nothing here ever carries a
 * prompt or an answer: only routes, counts and times.
 */
export const DASHBOARD_CONNECT_PATH = "/dashboard/connect";
/** How long a dashboard socket may stay open without a valid `auth` frame. */
export const DASHBOARD_AUTH_TIMEOUT_MS = 5_000;

export const dashboardAuthSchema = z.object({ type: z.literal("auth"), key: z.string().max(1_024) });
export type DashboardAuth = z.infer<typeof dashboardAuthSchema>;

/** One attempt of a request, as its `rung` trace tells it. */
export const routeAttemptSchema = z.object({
  model: z.string(),
  node: z.string(),
  tier: z.enum(["private", "public"]).optional(),
  outcome: z.string(),
  reason: z.string().optional(),
  hedge: z.literal(true).optional(),
  ms: z.number(),
  firstTokenMs: z.number().optional(),
  confidence: z
    .object({ mean: z.number(), min: z.number(), judge: z.string().optional(), score: z.number().optional(), bar: z.number().optional() })
    .optional(),
});

/** How one request went: which rungs and nodes it tried, and how long each took. */
export const requestRouteSchema = z.object({
  /** The Worker's request id (`x-request-id`). */
  id: z.string(),
  /** When it ended, ms since the epoch. */
  at: z.number(),
  /** What the client asked for: `auto`, `auto:<profile>` or a model. */
  requested: z.string(),
  /** The model that answered (or was answering when it failed). */
  model: z.string().optional(),
  status: z.number().int(),
  totalMs: z.number(),
  firstTokenMs: z.number().optional(),
  completionTokens: z.number().int().optional(),
  attempts: z.array(routeAttemptSchema),
});
export type RequestRoute = z.infer<typeof requestRouteSchema>;

/** One model's minute of traffic; latency is a sparse histogram (bucket index → count, see `latencyBucketOf`). */
export const trafficMinuteSchema = z.object({
  /** Minutes since the epoch. */
  minute: z.number().int(),
  model: z.string(),
  requests: z.number().int(),
  /** Requests this model answered (status 200): its share of a minute's answers is the share of its rung. */
  answered: z.number().int(),
  completionTokens: z.number().int(),
  escalations: z.number().int(),
  errors: z.number().int(),
  latency: z.record(z.string(), z.number().int()),
});
export type TrafficMinute = z.infer<typeof trafficMinuteSchema>;

/** A node as the router sees it (the fields of `/v1/status`, which the page shows). */
export const dashboardNodeSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.string().optional(),
  engine: z.string().optional(),
  trust: z.string(),
  draining: z.boolean(),
  active: z.number(),
  slots: z.number().optional(),
  tokensPerSecond: z.number(),
  breaker: z.string(),
  firstTokenMedianMs: z.number().nullable(),
  /** A public node's standing: checks of its answers that agreed with a trusted node's, and that differed. */
  verification: z.object({ standing: z.string(), agreed: z.number(), differed: z.number() }).optional(),
});

export const dashboardPoolSchema = z.object({
  catalog: z.array(z.looseObject({ id: z.string(), nodes: z.array(dashboardNodeSchema) })),
  queued: z.number(),
  inFlight: z.number(),
});
export type DashboardPool = z.infer<typeof dashboardPoolSchema>;

export const dashboardFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("snapshot"),
    pool: dashboardPoolSchema,
    /** Newest last. */
    routes: z.array(requestRouteSchema),
    traffic: z.array(trafficMinuteSchema),
  }),
  /** Nodes joined, left or changed: the pool as it is now. */
  z.object({ type: z.literal("nodes"), pool: dashboardPoolSchema }),
  /** A request ended: its route, and its model's minute of traffic as it stands now. */
  z.object({ type: z.literal("request"), route: requestRouteSchema, traffic: trafficMinuteSchema }),
  /** Refused (a wrong key, no admin key configured, a bad frame); the socket closes after it. */
  z.object({ type: z.literal("error"), error: wireErrorSchema }),
]);
export type DashboardFrame = z.infer<typeof dashboardFrameSchema>;

/**
 * Latency buckets grow by a quarter each (±12% around their middle), from
 * 1 ms up: 64 cover ten minutes, so a minute's histogram stays small.
 */
const LATENCY_GROWTH = 1.25;
const LATENCY_BUCKETS = 64;

export function latencyBucketOf(ms: number): number {
  return Math.min(LATENCY_BUCKETS - 1, Math.max(0, Math.floor(Math.log(Math.max(ms, 1)) / Math.log(LATENCY_GROWTH))));
}

/** The `q` quantile (0–1) of a latency histogram, as its bucket's geometric middle; undefined when empty. */
export function latencyQuantile(histogram: Readonly<Record<string, number>>, q: number): number | undefined {
  const buckets = Object.entries(histogram)
    .map(([bucket, count]) => [Number(bucket), count] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= q * total) return LATENCY_GROWTH ** (bucket + 0.5);
  }
  return undefined;
}
