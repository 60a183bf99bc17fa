import { availableParallelism } from "node:os";

/**
 * Half the cores, at least one. Decoding is memory-bound, and threads that
 * compete with each other or with the edge for a core slow it down sharply
 * (measured on 2 cores beside wrangler: 1 thread ~1,000 tok/s, 2 threads ~120).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}
