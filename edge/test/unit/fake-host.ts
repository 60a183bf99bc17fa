import type { Chunk, Done, Job, JobError, WireError } from "@rung/shared/protocol";
import type { EffectiveEscalation } from "@rung/shared/routing";
import { vi } from "vitest";
import type { FabricJob } from "../../src/fabric/fabric-job.ts";
import { JobRun } from "../../src/fabric/job-run.ts";
import type { JobRunHost, Ladder, Queued, RunSummary } from "../../src/fabric/job-run-host.ts";
import { TimerQueue } from "../../src/fabric/timer-queue.ts";
import type { SettledCheck } from "../../src/fabric/verification-book.ts";
import type { Tier } from "../../src/keys/caller.ts";

/** A node of the fake pool: the models it serves and its slots. */
interface FakeNode {
  models: readonly string[];
  slots: number;
  busy: number;
  tier?: Tier;
}

/**
 * The fabric around a `JobRun`, in memory: nodes with slots, a queue, and a
 * record of everything the run asked for. Picks the first free node in the
 * ladder's order, so tests know where a job lands.
 */
export class FakeHost implements JobRunHost {
  readonly nodes = new Map<string, FakeNode>();
  /** Jobs as dispatched, newest last, with the node each went to. */
  readonly jobs: { nodeId: string; job: Job }[] = [];
  readonly cancelled: string[] = [];
  readonly released: string[] = [];
  readonly health: string[] = [];
  readonly firstTokens: string[] = [];
  readonly queue: Queued[] = [];
  /** How each run ended, in order. */
  readonly summaries: RunSummary[] = [];
  /** Second opinions on public nodes' answers that a verify-demanding key's run reported. */
  readonly confirmations: SettledCheck[] = [];
  queueLength = 64;
  hedgeDelay: number | null = null;
  maxRetries = 2;
  readonly timers = new TimerQueue();
  timing = { tokenTimeoutMs: 1_000, requestTimeoutMs: 6_000, gapTimeoutMs: 2_000, queueWaitMs: 15_000 };

  node(nodeId: string, models: readonly string[], slots = 1, tier: Tier = "private"): this {
    this.nodes.set(nodeId, { models, slots, busy: 0, tier });
    return this;
  }

  pickNode(modelId: string, nodeIds: readonly string[], exclude: ReadonlySet<string>): string | undefined {
    return nodeIds.find((id) => !exclude.has(id) && this.#free(id, modelId));
  }

  couldServeLater(modelId: string, nodeIds: readonly string[]): boolean {
    return nodeIds.some((id) => this.nodes.get(id)?.models.includes(modelId));
  }

  dispatch(nodeId: string, job: Job): boolean {
    if (!this.#free(nodeId, job.model)) return false;
    this.nodes.get(nodeId)!.busy++;
    this.jobs.push({ nodeId, job });
    return true;
  }

  cancel(_nodeId: string, attemptId: string): void {
    this.cancelled.push(attemptId);
  }

  release(nodeId: string, attemptId: string): void {
    this.released.push(attemptId);
    const node = this.nodes.get(nodeId);
    if (node) node.busy--;
    // As the router does: queued requests try again on a later turn.
    queueMicrotask(() => {
      for (const run of [...this.queue]) run.slotFreed();
    });
  }

  confirmed(check: SettledCheck): void {
    this.confirmations.push(check);
  }

  nodeName(nodeId: string): string {
    return nodeId;
  }

  awaitingReturn(_modelId: string): boolean {
    return false;
  }

  nodeTier(nodeId: string): Tier {
    return this.nodes.get(nodeId)?.tier ?? "private";
  }

  finished(summary: RunSummary): void {
    this.summaries.push(summary);
  }

  reportHealth(nodeId: string, modelId: string, healthy: boolean): void {
    this.health.push(`${nodeId} ${modelId} ${healthy ? "ok" : "failed"}`);
  }

  recordFirstToken(nodeId: string, modelId: string, ms: number): void {
    this.firstTokens.push(`${nodeId} ${modelId} ${ms}`);
  }

  hedgeDelayMs(): number | null {
    return this.hedgeDelay;
  }

  retryDelayMs(): number {
    return 10;
  }

  enqueue(run: Queued): boolean {
    if (this.queue.length >= this.queueLength) return false;
    this.queue.push(run);
    return true;
  }

  dequeue(run: Queued): void {
    const index = this.queue.indexOf(run);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** The last job dispatched, and where. */
  get last(): { nodeId: string; job: Job } {
    return this.jobs.at(-1)!;
  }

  #free(nodeId: string, modelId: string): boolean {
    const node = this.nodes.get(nodeId);
    if (!node?.models.includes(modelId)) return false;
    return node.busy < node.slots;
  }
}

export const escalation: EffectiveEscalation = {
  enabled: true,
  minMeanConfidence: 0.9,
  minTokenConfidence: 0,
  windowTokens: 4,
  commitMs: 500,
  maxClimbs: 2,
  climbOnInvalidJson: true,
};

/** Two rungs: `small` on nodes a and b, `big` on node c. */
export function twoRungs(): Ladder {
  return {
    rungs: [
      { modelId: "small", nodeIds: ["a", "b"] },
      { modelId: "big", nodeIds: ["c"] },
    ],
    startIndex: 0,
    escalation,
    profile: "balanced",
    preRouted: [],
  };
}

export function fabricJob(overrides: Partial<FabricJob> = {}): FabricJob {
  return {
    requestId: "req_1",
    model: "auto",
    input: { kind: "chat", messages: [{ role: "user", content: "hi" }] },
    sampling: { temperature: 1, topP: 1, stop: [] },
    promptTokens: 1,
    stream: true,
    reply: { dialect: "chat", includeUsage: false },
    caller: { keyId: "anonymous", name: "anonymous", pool: "main", tiers: ["private", "public"], limits: {} },
    ...overrides,
  };
}

/** A node's frames for one job: numbered chunks, then done or an error. */
export function frames(jobId: string) {
  let seq = 0;
  return {
    chunk: (text: string, confidence: number | null): Chunk => ({ type: "chunk", jobId, seq: seq++, text, confidence }),
    done: (extra: Partial<Done> = {}): Done => ({
      type: "done",
      jobId,
      chunks: seq,
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: seq },
      ...extra,
    }),
    error: (error: WireError): JobError => ({ type: "job-error", jobId, error }),
  };
}

type ClientChunk = {
  choices?: { delta?: { content?: string }; message?: { content?: string | null }; finish_reason?: string | null }[];
  rung?: unknown;
  error?: { code: string; message: string };
};

/**
 * The run's events, read back from the client's body the Durable Object wrote
 * (server-sent events for a stream, one JSON object for a whole answer), so the
 * tests say what was answered without restating OpenAI's shapes.
 */
export async function events(response: Response): Promise<{ type: string; [key: string]: unknown }[]> {
  const text = await response.text();
  const stream = response.headers.get("content-type")?.startsWith("text/event-stream");
  const bodies = stream
    ? text
        .split("\n\n")
        .filter((block) => block.startsWith("data: ") && block !== "data: [DONE]")
        .map((block) => JSON.parse(block.slice("data: ".length)) as ClientChunk)
    : [JSON.parse(text) as ClientChunk];
  return bodies.flatMap((body): { type: string; [key: string]: unknown }[] => {
    if (body.error) return [{ type: "fail", code: body.error.code, message: body.error.message }];
    const choice = body.choices?.[0];
    const piece = choice?.delta?.content ?? choice?.message?.content;
    return [
      ...(piece ? [{ type: "delta", text: piece }] : []),
      ...(body.rung ? [{ type: "end", finishReason: choice?.finish_reason, trace: body.rung }] : []),
    ];
  });
}

/** A pool of three nodes: a and b serve the small rung, c the big one. */
export function pool(): FakeHost {
  return new FakeHost().node("a", ["small"]).node("b", ["small"]).node("c", ["big"]);
}

/** Starts a run on the fake host; `settled` says whether its response promise has settled yet. */
export function start(host: FakeHost, job = fabricJob(), ladder = twoRungs()): { run: JobRun; settled: () => boolean } {
  const run = new JobRun(job, ladder, host);
  let settled = false;
  void run.response.then(() => {
    settled = true;
  });
  run.start();
  return { run, settled: () => settled };
}

/** Lets the microtasks run (promise settlements, the host's queue wake-ups) and moves the fake clock. */
export const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

/** The trace of an `end` event. */
export type Trace = { attempts: { node: string; outcome: string; reason?: string }[] };

export const outcomes = (trace: Trace) => trace.attempts.map((a) => `${a.node}:${a.outcome}`);
