import type { Attempt as AttemptTrace } from "@rung/shared/openai";
import type { Job, ToolCall, Usage } from "@rung/shared/protocol";
import type { EffectiveEscalation } from "@rung/shared/routing";
import type { Tier } from "../keys/caller.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { TimerQueue } from "./timer-queue.ts";
import type { SettledCheck } from "./verification-book.ts";

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

/** A public node's greedy answer that a client got: the router may run it again on a trusted node to check it. */
export interface Checkable {
  nodeId: string;
  modelId: string;
  text: string;
  toolCalls?: ToolCall[] | undefined;
}

/** How a request ended, once: what limits, usage and metrics count. */
export interface RunSummary {
  /** 200 answered; a refusal's status; 502 a stream that broke after it committed; 499 the client left. */
  status: number;
  /** The model that answered (or was answering when the stream broke). */
  model?: string;
  /** The answer's tokens, as its node counted them, when it ended. */
  usage?: Usage;
  /** From the request's start to its end. */
  totalMs: number;
  /** From the request's start to the answer's first token. */
  firstTokenMs?: number;
  /** The answering attempt's own time on its node: what is left of `totalMs` is what the edge and the ladder added. */
  nodeMs?: number;
  attempts: readonly AttemptTrace[];
  /** Set when a public node's greedy answer reached the client unchecked. */
  checkable?: Checkable;
}

/** What a job needs from the fabric around it; the Durable Object provides it. */
export interface JobRunHost {
  /** A node of these that can take the model now (free slot, breaker closed), or undefined. */
  pickNode(modelId: string, nodeIds: readonly string[], exclude: ReadonlySet<string>): string | undefined;
  /** Whether one of these nodes could take the model once its busy slots free up, or a node of it may come back. */
  couldServeLater(modelId: string, nodeIds: readonly string[]): boolean;
  /** No node serves the model now, but its last one left a moment ago: one may come back. */
  awaitingReturn(modelId: string): boolean;
  /** Sends the job to the node and takes one of its slots; false when the node cannot take it now. */
  dispatch(nodeId: string, job: Job): boolean;
  /** Tells the node to stop (best effort). */
  cancel(nodeId: string, attemptId: string): void;
  /** The attempt is over: free its slot and stop routing its frames here. */
  release(nodeId: string, attemptId: string): void;
  nodeName(nodeId: string): string;
  /** The node's trust tier (`private` for one that already left). */
  nodeTier(nodeId: string): Tier;
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
  /** The request ended (exactly once, whichever way). */
  finished(summary: RunSummary): void;
  /** A private node answered a verify-demanding key's job the same as, or unlike, a public node. */
  confirmed(check: SettledCheck): void;
  dequeue(run: Queued): void;
  /** The pool's timers, on one runtime timer (timer-queue.ts). */
  timers: TimerQueue;
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
