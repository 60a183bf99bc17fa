// Whole on purpose: every edge frame a node handles and the heartbeat that answers them are one session's protocol.
import {
  BATCHED_CHUNKS_SINCE_MINOR,
  type EdgeMessage,
  edgeMessageSchema,
  HEARTBEAT_SINCE_MINOR,
  type Heartbeat,
  type Hello,
  type Job,
  type ModelInfo,
  type NodeMessage,
  PROTOCOL_VERSION,
  TOKEN_SIGNALS_SINCE_MINOR,
  type Welcome,
} from "../protocol/messages.ts";
import { hasMinorVersion, parseFrame } from "../protocol/parse-frame.ts";
import { type WireError, WireErrorCode, wireError } from "../protocol/wire-error.ts";
import { ChunkBatcher } from "./chunk-batcher.ts";
import { toWireError } from "./engine-error.ts";
import type { InferenceEngine } from "./inference-engine.ts";
import { SpeedMeter } from "./speed-meter.ts";

export interface NodeIdentity {
  name: string;
  kind: Hello["node"]["kind"];
  /** Donated tabs say `public`; absent means `private`. */
  trust?: Hello["node"]["trust"];
}

/** How a link reacts to the edge's frames that are about the link rather than a job. */
export interface NodeSessionHooks {
  /** The edge took the hello and named this node. */
  onWelcome?(welcome: Welcome): void;
  /** A fatal `error`: the edge refused this node, and retrying cannot change its mind (a refused hello, a closed pool). */
  onRefused?(error: WireError): void;
  /** A non-fatal `error`: the edge found fault with one of this node's frames and carries on. */
  onEdgeError?(error: WireError): void;
  /** A frame from the edge that does not parse, with why; the jobs in hand carry on. */
  onBadFrame?(message: string): void;
}

/**
 * The node side of the protocol, independent of transport: turns `job` and
 * `cancel` frames into engine calls and engine pieces into numbered `chunk`
 * frames (several pieces a frame for an edge that reads them, see
 * ChunkBatcher), and hands `welcome` and `error` to the link's hooks. Native agents
 * and browser tabs each wrap one in their own socket.
 */
export class NodeSession {
  readonly #jobs = new Map<string, AbortController>();
  readonly #idle = new Set<() => void>();
  readonly #speeds = new SpeedMeter();
  /** Each model's tokens/s as the last `hello` announced it, to tell what the engine measured since. */
  readonly #announced = new Map<string, number>();
  #draining = false;
  /** Whether the edge's last `welcome` said it reads several tokens in one chunk frame. */
  #batching = false;
  /**
   * Whether the edge may have margins and entropies when a job asks: false after a `welcome`
   * older than 1.7. True before any welcome, which only tunnel nodes never get: their edge
   * names no version, and a job that asks came from an edge that knows the field (1.7).
   */
  #signals = true;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly engine: InferenceEngine,
    private readonly identity: NodeIdentity,
    /** Where frames go; the link swaps sockets underneath on reconnect. */
    private readonly send: (frame: NodeMessage) => void,
    private readonly hooks: NodeSessionHooks = {},
  ) {}

  get activeJobs(): number {
    return this.#jobs.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** On a rejoin, models that ran jobs announce their measured speed instead of the load-time one. */
  hello(): Hello {
    const speeds = this.#speeds.recent();
    const hello: Hello = {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      node: {
        name: this.identity.name,
        kind: this.identity.kind,
        engine: this.engine.name,
        slots: this.engine.slots,
        ...(this.identity.trust && { trust: this.identity.trust }),
      },
      models: this.engine.models.map((m) => ({ ...m, tokensPerSecond: speeds.get(m.id) ?? m.tokensPerSecond })),
    };
    if (this.engine.hardware) hello.hardware = this.engine.hardware;
    this.#announced.clear();
    for (const model of hello.models) this.#announced.set(model.id, model.tokensPerSecond);
    return hello;
  }

  /**
   * Load and speed, for the link to send every few seconds: each model's speed in
   * recent jobs, or else the engine's own figure where it changed since `hello` (a
   * native agent joins before its speed probe ends, announcing 0, "not measured").
   */
  async heartbeat(): Promise<Heartbeat> {
    const recent = this.#speeds.recent();
    const heartbeat: Heartbeat = {
      type: "heartbeat",
      activeJobs: this.#jobs.size,
      models: [
        ...[...recent].map(([id, tokensPerSecond]) => ({ id, tokensPerSecond })),
        ...this.#newlyMeasured(recent).map(({ id, tokensPerSecond }) => ({ id, tokensPerSecond })),
      ],
    };
    // A failing memory query must not cost the heartbeat itself.
    const vramFreeBytes = await this.engine.freeVramBytes?.().catch(() => undefined);
    if (vramFreeBytes !== undefined) heartbeat.vramFreeBytes = vramFreeBytes;
    return heartbeat;
  }

  /**
   * Sends a `heartbeat` every `intervalMs` until stopHeartbeats. An edge older than 1.1
   * would count heartbeats as bad frames and close the socket after a few: it gets none.
   */
  startHeartbeats(edgeProtocol: string, intervalMs: number): void {
    this.stopHeartbeats();
    if (!hasMinorVersion(edgeProtocol, HEARTBEAT_SINCE_MINOR)) return;
    this.#heartbeatTimer = setInterval(() => this.#beat(), intervalMs);
    // A speed measured between hello and welcome would otherwise wait a whole interval.
    if (this.hasNewSpeeds) this.#beat();
  }

  stopHeartbeats(): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  /**
   * Whether the engine measured a speed that the last `hello` did not carry
   * (its speed probe ended after the hello went out), which the next heartbeat carries.
   */
  get hasNewSpeeds(): boolean {
    return this.#newlyMeasured().length > 0;
  }

  /**
   * Sends a heartbeat now rather than at the next tick, e.g. once the engine has
   * measured its speed, so the edge ranks the node by it at once. Before the welcome,
   * startHeartbeats sends it; an edge older than 1.1 takes no heartbeats and hears it
   * in the next `hello`.
   */
  heartbeatNow(): void {
    if (this.#heartbeatTimer !== undefined) this.#beat();
  }

  #beat(): void {
    void this.heartbeat().then((frame) => this.send(frame));
  }

  /** The engine's models without recent jobs whose own speed figure differs from what the last `hello` announced. */
  #newlyMeasured(recent = this.#speeds.recent()): ModelInfo[] {
    return this.engine.models.filter(
      (m) => !recent.has(m.id) && this.#announced.has(m.id) && this.#announced.get(m.id) !== m.tokensPerSecond,
    );
  }

  /** A text frame from the edge: parsed, then handled; one that does not parse goes to `onBadFrame`. */
  receive(text: string): void {
    const parsed = parseFrame(edgeMessageSchema, text);
    if (parsed.ok) this.handle(parsed.value);
    else this.hooks.onBadFrame?.(parsed.error.message);
  }

  handle(frame: EdgeMessage): void {
    switch (frame.type) {
      case "job":
        void this.#run(frame);
        return;
      case "cancel":
        this.#jobs.get(frame.jobId)?.abort();
        return;
      case "welcome":
        this.#batching = hasMinorVersion(frame.protocol, BATCHED_CHUNKS_SINCE_MINOR);
        this.#signals = hasMinorVersion(frame.protocol, TOKEN_SIGNALS_SINCE_MINOR);
        this.hooks.onWelcome?.(frame);
        return;
      case "error":
        if (frame.fatal) this.hooks.onRefused?.(frame.error);
        else this.hooks.onEdgeError?.(frame.error);
        return;
    }
  }

  /** Stop every job, e.g. when the socket dropped and the edge has already given up on them. */
  abortAll(): void {
    for (const controller of this.#jobs.values()) controller.abort();
  }

  /** Resolves once no job is running. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /**
   * Take no new jobs, let running ones finish until the deadline, then abort
   * the rest; their edge sees a retryable `draining` error and moves them on.
   * An engine may take a moment to notice an abort (a prompt being evaluated),
   * so it gets `graceMs` more before drain returns regardless.
   */
  async drain(deadlineMs: number, graceMs = 5_000): Promise<void> {
    this.#draining = true;
    this.send({ type: "draining" });
    if (await settlesWithin(this.idle(), deadlineMs)) return;
    this.abortAll();
    await settlesWithin(this.idle(), graceMs);
  }

  async #run(job: Job): Promise<void> {
    const refusal = this.#refusal(job);
    if (refusal) {
      this.send({ type: "job-error", jobId: job.jobId, error: refusal });
      return;
    }
    const controller = new AbortController();
    this.#jobs.set(job.jobId, controller);
    // Margins and entropies cost engines work (a whole distribution per token): only when asked, and for an edge that reads them.
    const signals = job.tokenSignals === true && this.#signals;
    const chunks = new ChunkBatcher(job.jobId, (chunk) => this.send(chunk), { batching: this.#batching, signals });
    let firstPieceAt: number | undefined;
    try {
      const { model, input, sampling, responseFormat, tools, toolChoice } = job;
      const result = await this.engine.generate(
        {
          model,
          input,
          sampling,
          ...(responseFormat && { responseFormat }),
          ...(tools && { tools, toolChoice }),
          ...(signals && { tokenSignals: true }),
        },
        {
          signal: controller.signal,
          onPiece: (piece) => {
            firstPieceAt ??= performance.now();
            chunks.push(piece);
          },
        },
      );
      chunks.flush();
      if (controller.signal.aborted) throw abortedError(this.#draining);
      if (firstPieceAt !== undefined) {
        this.#speeds.record(job.model, result.usage.completionTokens, (performance.now() - firstPieceAt) / 1000);
      }
      this.send({ type: "done", jobId: job.jobId, chunks: chunks.frames, ...result });
    } catch (error) {
      chunks.flush();
      const wire = controller.signal.aborted ? abortedError(this.#draining) : toWireError(error);
      this.send({ type: "job-error", jobId: job.jobId, error: wire });
    } finally {
      this.#jobs.delete(job.jobId);
      if (this.#jobs.size === 0) {
        for (const resolve of this.#idle) resolve();
        this.#idle.clear();
      }
    }
  }

  #refusal(job: Job): WireError | undefined {
    if (this.#draining) return wireError(WireErrorCode.draining, "node is shutting down", true);
    if (this.#jobs.has(job.jobId)) return wireError(WireErrorCode.badFrame, `job ${job.jobId} is already running`, false);
    if (this.#jobs.size >= this.engine.slots) return wireError(WireErrorCode.busy, "every slot is taken", true);
    const model = this.engine.models.find((m) => m.id === job.model);
    if (!model) return wireError(WireErrorCode.unknownModel, `this node does not serve ${job.model}`, true);
    // The edge only sends capabilities a model announced; a job that needs more came from a confused edge, and another node may have it.
    if (job.responseFormat && !model.capabilities?.jsonSchema) {
      return wireError(UNSUPPORTED, `${job.model} on this node cannot constrain answers to JSON`, true);
    }
    if (job.tools && job.toolChoice !== "none" && !model.capabilities?.tools) {
      return wireError(UNSUPPORTED, `${job.model} on this node cannot call functions`, true);
    }
    return undefined;
  }
}

const UNSUPPORTED = "unsupported_capability";

/** True when the promise settled before the timeout. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return settled;
}

function abortedError(draining: boolean): WireError {
  return draining
    ? wireError(WireErrorCode.draining, "node shut down before the job finished", true)
    : wireError(WireErrorCode.cancelled, "job was cancelled", false);
}
