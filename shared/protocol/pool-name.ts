import { z } from "zod";

/**
 * Pools: each is its own Fabric Durable Object (`idFromName(pool)`), with its
 * own nodes, keys and policy. A node names the pool it joins with `?pool=` on
 * its entrance (`/v1/nodes/connect`, `/v1/nodes/tunnel/*`, `/donate/connect`);
 * without one it joins the pool its join token names, or `main`.
 */

/** The pool of everything that names none. */
export const DEFAULT_POOL = "main";

/** The query parameter that names a pool on every entrance and on `/donate` itself. */
export const POOL_QUERY_PARAM = "pool";

/** The first minor version whose edge reads `?pool=`; an older edge ignores it and has only one pool. */
export const POOLS_SINCE_MINOR = 5;

/** Lowercase letters, digits and dashes, 1 to 32, not starting with a dash: safe in a URL, a header, a log and a Durable Object name. */
export const POOL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const poolNameSchema = z
  .string()
  .regex(POOL_NAME_PATTERN, "must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit");
export type PoolName = z.infer<typeof poolNameSchema>;

/** `?pool=<name>` to append to an entrance's path, or nothing when no pool is named. */
export function poolQuery(pool: string | undefined): string {
  return pool === undefined ? "" : `?${POOL_QUERY_PARAM}=${encodeURIComponent(pool)}`;
}
