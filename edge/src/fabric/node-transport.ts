import type { Job } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";

/**
 * How the router reaches nodes; the Durable Object provides it over its transports (sockets, tunnels, upstreams).
 * Its own file so that the router and the answer checks both read it without importing each other.
 */
export interface NodeTransport {
  /** Every node, or those serving `modelId`; kept lists, so asking costs what the answer holds. */
  views(modelId?: string): readonly NodeView[];
  view(nodeId: string): NodeView | undefined;
  /** Starts the job on the node; false when the node cannot take it now. */
  send(nodeId: string, job: Job): boolean;
  /** Tells the node to stop the job (best effort). */
  cancel(nodeId: string, jobId: string): void;
  take(nodeId: string, modelId: string): void;
  release(nodeId: string, modelId: string): void;
  nameOf(nodeId: string): string;
}
