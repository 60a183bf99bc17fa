import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times; 100 on every Linux build this runs on. */
const TICKS_PER_SECOND = 100;

/** The pids of this process's direct children with this command name (`comm` in /proc/<pid>/stat). */
export function childPids(command: string): Set<number> {
  const pids = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = statFields(Number(entry));
      if (stat.comm === command && stat.fields[1] === String(process.pid)) pids.add(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return pids;
}

/**
 * User plus system CPU time the process has used so far, in ms (10 ms resolution);
 * with `children`, also that of its children that have ended and been waited for.
 */
export function cpuMs(pid: number, { children = false } = {}): number {
  const { fields } = statFields(pid);
  // After the command: state is field 0, utime 11, stime 12, cutime 13, cstime 14 (proc(5) numbers them from 14).
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Resident memory (VmRSS) now, in bytes. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

function statFields(pid: number): { comm: string; fields: string[] } {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command may hold spaces and parentheses: it ends at the last ')'.
  const close = text.lastIndexOf(")");
  return { comm: text.slice(text.indexOf("(") + 1, close), fields: text.slice(close + 2).split(" ") };
}

/**
 * Waits until the process has used no CPU for `quietMs` (or `timeoutMs` passed) and returns
 * its CPU time then: work that frames set off has finished when the counter stops moving.
 */
export async function cpuMsWhenQuiet(pid: number, quietMs = 300, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuMs(pid);
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = cpuMs(pid);
    if (now !== last) quietSince = Date.now();
    last = now;
  }
  return last;
}
