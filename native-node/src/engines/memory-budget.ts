import { formatBytes } from "./format-bytes.ts";

export interface MemoryBudget {
  bytes: number;
  /** For messages, with its figure: `the 8.0 GB memory limit`, `the 23.6 GB of free VRAM`. */
  name: string;
  /** Set when the limit was more than is free and the plan uses what is free instead. */
  warning?: string;
}

/**
 * What the models may use together: the given limit, or the free memory when
 * there is no limit or the limit asks for more than is free (planning with
 * memory that is not there fails in the driver, mid-load).
 */
export function memoryBudget(limitBytes: number | undefined, freeBytes: number, kind: "RAM" | "VRAM"): MemoryBudget {
  const free = { bytes: freeBytes, name: `the ${formatBytes(freeBytes)} of free ${kind}` };
  if (limitBytes === undefined) return free;
  if (limitBytes > freeBytes) {
    return {
      ...free,
      warning: `--memory-limit ${formatBytes(limitBytes)} exceeds the ${formatBytes(freeBytes)} free; planning with ${formatBytes(freeBytes)}`,
    };
  }
  return { bytes: limitBytes, name: `the ${formatBytes(limitBytes)} memory limit` };
}
