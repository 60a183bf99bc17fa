import { DONATE_CONFIG_PATH, POOL_QUERY_PARAM, poolNameSchema, poolQuery } from "@rung/shared/protocol";

/**
 * Where the page reads its settings: `/donate?pool=lab` reads
 * `/donate/config?pool=lab`, whose answer names the pool again in its
 * `connectPath`; without `pool` the edge answers for `main`. A name the edge
 * would refuse is refused here, in words the donor can act on.
 */
export function donateConfigUrl(pageSearch: string): string {
  const pool = new URLSearchParams(pageSearch).get(POOL_QUERY_PARAM) || undefined;
  if (pool !== undefined && !poolNameSchema.safeParse(pool).success) {
    throw new Error(
      `"${pool}" in this page's address is not a pool name (lowercase letters, digits and dashes); check the link you followed`,
    );
  }
  return DONATE_CONFIG_PATH + poolQuery(pool);
}
