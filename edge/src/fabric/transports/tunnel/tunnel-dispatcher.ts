import { type Job, MAX_FRAME_BYTES, parseNodeFrame, signCall, TunnelPath } from "@rung/shared/protocol";
import { readLines } from "../../../read-lines.ts";
import type { TransportHost } from "../transport.ts";
import type { TunnelNode } from "./tunnel-nodes.ts";

/**
 * Sends jobs to tunnel nodes: one signed POST per job, whose streamed response
 * carries the node's frames, one JSON object a line. Cancelling aborts the
 * call; the node stops the job when its response is closed.
 */
export class TunnelDispatcher {
  readonly #calls = new Map<string, AbortController>();

  constructor(private readonly host: Pick<TransportHost, "onFrame" | "onBroken">) {}

  /** Sends a job to the node; its frames arrive at the host as the node's. Only jobs: welcome and error frames belong to sockets (over HTTP the status says it). */
  send(node: TunnelNode, job: Job): void {
    void this.#call(node, job);
  }

  /** Stops a job's call; by job id, so it works even after its node expired. False when there is none. */
  cancel(jobId: string): boolean {
    const call = this.#calls.get(jobId);
    call?.abort();
    return call !== undefined;
  }

  async #call(node: TunnelNode, job: Job): Promise<void> {
    const controller = new AbortController();
    this.#calls.set(job.jobId, controller);
    let finished = false;
    try {
      const body = JSON.stringify(job);
      const signature = await signCall(node.secret, node.nodeId, { method: "POST", path: TunnelPath.jobs, body });
      const response = await fetch(`${node.url.replace(/\/+$/, "")}${TunnelPath.jobs}`, {
        // Never follow a redirect: the registered URL is the only place this job may go.
        redirect: "manual",
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...signature },
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        return;
      }
      for await (const line of readLines(response.body, { signal: controller.signal, maxLineLength: MAX_FRAME_BYTES })) {
        const parsed = parseNodeFrame(line);
        // A broken line fails nothing by itself; a job that never ends is caught by its silence timer.
        if (!parsed.ok) continue;
        const frame = parsed.value;
        if ((frame.type !== "chunk" && frame.type !== "done" && frame.type !== "job-error") || frame.jobId !== job.jobId) continue;
        this.host.onFrame(node.nodeId, frame);
        if (frame.type !== "chunk") {
          // The job is over: close the call, whatever else the node would send.
          finished = true;
          break;
        }
      }
    } catch {
      // Network failures end the call; the finally block reports them as a lost node.
    } finally {
      this.#calls.delete(job.jobId);
      if (!finished && !controller.signal.aborted) this.host.onBroken(node.nodeId, job.jobId);
      // However the call ended, close it: a node must not hold the connection open after its job.
      controller.abort();
    }
  }
}
