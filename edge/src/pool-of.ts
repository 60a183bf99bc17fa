import { DEFAULT_POOL, POOL_NAME_PATTERN } from "@rung/shared/protocol";
import { ApiError } from "./middleware/api-error.ts";

/** The pool a `?pool=` parameter names: `main` when absent, a 400 when it is no pool name. */
export function poolOf(asked: string | null | undefined): string {
  if (asked === undefined || asked === null || asked === "") return DEFAULT_POOL;
  if (!POOL_NAME_PATTERN.test(asked)) {
    throw new ApiError({
      status: 400,
      message: `'${asked.slice(0, 64)}' is not a pool name (lowercase letters, digits and '-', at most 32).`,
      param: "pool",
      code: "invalid_pool",
    });
  }
  return asked;
}
