/** chaos.test.ts's requests and its edge's restart, and the table it prints of how each phase's requests ended. */
import type { ObservedRequest } from "./observed-request.ts";

export interface Sent extends ObservedRequest {
  prompt: string;
  /** The phase of the run when it was sent. */
  phase: string;
}

/** When the edge was down (`from`..`up`) and when every agent had joined it again. */
export interface Restart {
  from: number;
  up: number;
  rejoined: number;
}

function outcomeLabel({ outcome }: Sent): string {
  switch (outcome.kind) {
    case "answer":
      return "answered";
    case "stream-error":
      return `error event ${outcome.code}`;
    case "http-error":
      return `HTTP ${outcome.status} ${outcome.code}`;
    default:
      return outcome.kind;
  }
}

/** One row per phase and kind of request, one column per outcome. */
export function printSummary(all: Sent[], restart: Restart, drops: number, run: { seed: number; inFlight: number }): void {
  const table: Record<string, Record<string, number>> = {};
  for (const request of all) {
    const key = `${request.phase} (${request.stream ? "streamed" : "whole"})`;
    const row = table[key] ?? {};
    table[key] = row;
    const label = outcomeLabel(request);
    row[label] = (row[label] ?? 0) + 1;
  }
  const wall = Math.max(...all.map((r) => r.endedAt)) - Math.min(...all.map((r) => r.startedAt));
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const rerouted = all.filter((r) => r.outcome.kind === "answer" && r.attempts > 1).length;
  const broken = all.filter((r) => r.outcome.kind === "stream-error");
  const brokenByDroppers = broken.filter((r) => r.node?.startsWith("dropper.")).length;
  console.log(
    [
      `chaos, seed ${run.seed}: ${all.length} requests in ${seconds(wall)}, ${run.inFlight} in flight (rows: the phase each was sent in).`,
      `${rerouted} answers came from another node after the first failed before commit; ${broken.length} streams broke after`,
      `commit (${brokenByDroppers} on a dropping node); ${drops} dropping nodes took a job; the edge was down`,
      `${seconds(restart.up - restart.from)} and its agents rejoined ${seconds(restart.rejoined - restart.up)} after it came up.`,
    ].join(" "),
  );
  console.table(table);
}
