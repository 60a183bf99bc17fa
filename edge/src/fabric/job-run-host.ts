import type { Job } from "@rung/shared/protocol";
import type { EffectiveEscalation } from "@rung/shared/routing";
import type { FabricJob } from "./fabric-job.ts";

/** The models a request may run on, as the router planned them. */
export interface Ladder {
  /** Ascending: climbing means a higher index. Node ids are refreshed while the request waits in the queue. */
  rungs: readonly { modelId: string; nodeIds: readonly string[] }[];
  /** Where the profile (and pre-routing) start; rungs below are fallbacks for errors only. */
  startIndex: number;
  escalation: EffectiveEscalation;
  profile?: string;
  preRouted: readonly string[];
}

/**
 * A request waiting in the queue, as the host sees it. Declared here rather
 * than taken from `JobRun` so that the host's interface does not import the run.
 */
export interface Queued {
  readonly job: FabricJob;
  /** Nodes joined or left while it waited: the same rungs, served by these nodes now. */
  updateNodes(nodeIdsByModel: ReadonlyMap<string, readonly string[]>): void;
  /** A slot freed somewhere in the pool: try again. */
  slotFreed(): void;
}

/** What a job needs from the fabric around it; the Durable Object provides it. */
export interface JobRunHost {
  /** A node of these that can take the model now (free slot, breaker closed), or undefined. */
  pickNode(modelId: string, nodeIds: readonly string[], exclude: ReadonlySet<string>): string | undefined;
  /** Whether one of these nodes could take the model once its busy slots free up. */
  couldServeLater(modelId: string, nodeIds: readonly string[]): boolean;
  /** Sends the job to the node and takes one of its slots; false when the node cannot take it now. */
  dispatch(nodeId: string, job: Job): boolean;
  /** Tells the node to stop (best effort). */
  cancel(nodeId: string, attemptId: string): void;
  /** The attempt is over: free its slot and stop routing its frames here. */
  release(nodeId: string, attemptId: string): void;
  nodeName(nodeId: string): string;
  /** Feeds the node×model circuit breaker. */
  reportHealth(nodeId: string, modelId: string, healthy: boolean): void;
  /** How long a node took to send a model's first token (a lower bound for an attempt that lost its hedge race). */
  recordFirstToken(nodeId: string, modelId: string, ms: number): void;
  /** How long to wait for a first token before hedging on a second node; null: do not hedge. */
  hedgeDelayMs(modelId: string): number | null;
  retryDelayMs(retry: number): number;
  maxRetries: number;
  /** Waits for a free slot; false when the queue is full. The host calls `slotFreed` as slots free. */
  enqueue(run: Queued): boolean;
  dequeue(run: Queued): void;
  timing: {
    /** The longest wait for a node's next token, the first included. */
    tokenTimeoutMs: number;
    /** The longest wait for an answer to commit (a stream's first token, a whole answer's end). */
    requestTimeoutMs: number;
    /** How long to wait for missing chunks once `done` arrived before giving up on the node. */
    gapTimeoutMs: number;
    /** The longest a request waits in the queue for a free slot. */
    queueWaitMs: number;
  };
}
