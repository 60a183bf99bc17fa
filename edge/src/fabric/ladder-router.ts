// Whole on purpose: the host each JobRun gets closes over the router's private state (queue, breakers, attempts); a split would expose it.
import type { Chunk, Done, Job, JobError } from "@rung/shared/protocol";
import {
  awaitingPlan,
  BreakerBoard,
  buildCatalog,
  DepartedModels,
  FirstTokenStats,
  hasFreeSlot,
  hedgeDelayMs,
  isGreedy,
  isModelId,
  type NodeView,
  type Plan,
  type Policy,
  pickNode,
  planLadder,
  type RoutedModel,
  retryDelayMs,
} from "@rung/shared/routing";
import { AnswerChecks } from "./answer-checks.ts";
import type { FrameTarget } from "./check-run.ts";
import type { FabricJob } from "./fabric-job.ts";
import { JobRun } from "./job-run.ts";
import type { JobRunHost, Ladder, Queued, RunSummary } from "./job-run-host.ts";
import type { NodeTransport } from "./node-transport.ts";
import { TimerQueue } from "./timer-queue.ts";
import type { VerificationBook } from "./verification-book.ts";
import { type Access, mayReach, tierOf, visibleNodes } from "./visible-nodes.ts";

export interface RouterTiming {
  tokenTimeoutMs: number;
  requestTimeoutMs: number;
  gapTimeoutMs: number;
}

/**
 * The pool's routing state between requests: the policy, circuit breakers,
 * first-token statistics, the queue of requests waiting for a slot, and the
 * attempts in flight. Pure decisions live in `@rung/shared/routing`; this
 * class only keeps their state and hands each request's `JobRun` a host.
 */
export class LadderRouter {
  #policy: Policy;
  #breakers: BreakerBoard;
  /** First-token times per model (for the hedge delay) and per node (for choosing nodes). */
  readonly #firstTokens = new FirstTokenStats();
  readonly #nodeFirstTokens = new Map<string, FirstTokenStats>();
  readonly #queue: Queued[] = [];
  /** Every request's timers, on one runtime timer. */
  readonly #timers = new TimerQueue();
  /** Models whose last node left a moment ago: requests for them wait for one to come back. */
  readonly #departed: DepartedModels;
  #wakeScheduled = false;
  /** Running attempts (and checks of public nodes' answers) by their wire job id, with where they run. */
  readonly #attempts = new Map<string, { run: FrameTarget; nodeId: string; modelId: string }>();
  readonly #checks: AnswerChecks;

  constructor(
    policy: Policy,
    private readonly transport: NodeTransport,
    private readonly timing: RouterTiming,
    /** Every request's end, once: the object counts limits, usage and metrics from it. */
    private readonly onFinished: (job: FabricJob, summary: RunSummary) => void,
    /** Public nodes' standing; its quarantined nodes are already left out of the transport's views. */
    private readonly book: VerificationBook,
    private readonly random: () => number = Math.random,
  ) {
    this.#policy = policy;
    this.#breakers = new BreakerBoard(policy.breaker);
    this.#departed = new DepartedModels(policy.queue.awaitReturnMs);
    this.#checks = new AnswerChecks(book, {
      transport,
      canDispatch: (nodeId, modelId) => this.#breakers.canDispatch(nodeId, modelId),
      settings: () => this.#policy.verification,
      random: () => this.random(),
      timeoutMs: timing.requestTimeoutMs,
      track: (jobId, run, nodeId, modelId) => this.#attempts.set(jobId, { run, nodeId, modelId }),
      untrack: (jobId) => this.#attempts.delete(jobId),
      slotFreed: () => this.#wakeQueue(),
    });
  }

  get policy(): Policy {
    return this.#policy;
  }

  /** A new policy applies to requests from now on (upstreams and slots may have changed too). */
  setPolicy(policy: Policy): void {
    this.#policy = policy;
    this.#breakers.reconfigure(policy.breaker);
    this.#departed.reconfigure(policy.queue.awaitReturnMs);
    this.nodesChanged();
  }

  /**
   * The request's ladder over the nodes its key may reach. When only nodes of
   * other tiers could serve it, the answer is the 503 of any unserved request
   * (never a quiet move to a tier the key does not trust), and says so.
   */
  plan(job: FabricJob): Plan {
    const request = {
      model: job.model,
      promptTokens: job.promptTokens,
      maxTokens: job.sampling.maxTokens,
      needs: { jsonSchema: job.responseFormat !== undefined, tools: job.tools !== undefined },
      texts: job.input.kind === "chat" ? job.input.messages.map((m) => m.content) : [job.input.prompt],
      ...(job.override && { override: job.override }),
    };
    // A pinned model needs only its own nodes; `auto` reads the whole catalog.
    const all = this.transport.views(isModelId(job.model) ? job.model : undefined);
    const access = accessFor(job);
    const visible = visibleNodes(all, access);
    const plan = planLadder(request, visible, this.#policy);
    // A pinned model whose last node just left (none serves it now, to any key) is not unknown: the request waits for one to come back.
    const departed =
      !plan.ok && plan.status === 404 && isModelId(job.model) && all.length === 0
        ? this.#departed.recent(job.model, Date.now())
        : undefined;
    if (departed) return awaitingPlan(departed, this.#policy, job.override);
    // Refused only because of the key's tiers (or model list): say so, as the 503 of a request no node can serve now.
    if (plan.ok || visible === all || plan.status === 400 || !planLadder(request, all, this.#policy).ok) return plan;
    const what = isModelId(job.model) ? `the model '${job.model}'` : "this request";
    return {
      ok: false,
      status: 503,
      code: "no_capable_node",
      message: `No node of the tiers this request may use (${access.tiers.join(", ") || "none"}) serves ${what} now. Try again once one has joined.${
        access.tiers.length < job.caller.tiers.length
          ? " This key demands verified answers, and only greedy ones (temperature 0) can be checked on public nodes."
          : ""
      }`,
    };
  }

  /** Starts a planned request; the run's response settles once it commits or fails. */
  start(job: FabricJob, plan: Extract<Plan, { ok: true }>): JobRun {
    const ladder: Ladder = {
      rungs: plan.rungs.map((r) => ({ modelId: r.model.id, nodeIds: r.nodeIds })),
      startIndex: plan.startIndex,
      escalation: plan.escalation,
      ...(plan.profile && { profile: plan.profile }),
      preRouted: plan.preRouted,
    };
    const run: JobRun = new JobRun(
      job,
      ladder,
      this.#host(() => run),
    );
    run.start();
    return run;
  }

  /** A job's frame from whichever transport carried it, to the run that waits for it. */
  routeFrame(nodeId: string, frame: Chunk | Done | JobError): void {
    const attempt = this.#attempts.get(frame.jobId);
    // Late frames of an attempt the edge already gave up on are expected, not errors.
    if (attempt?.nodeId !== nodeId) return;
    try {
      attempt.run.onFrame(frame);
    } catch (error) {
      attempt.run.crash(error);
    }
  }

  /** A tunnel call broke: to its attempt, the node went away. */
  callBroken(nodeId: string, jobId: string): void {
    const attempt = this.#attempts.get(jobId);
    if (attempt?.nodeId === nodeId) attempt.run.onNodeGone(nodeId);
  }

  /** A node left (it served `models`): every attempt it held moves on. */
  nodeGone(nodeId: string, models: readonly RoutedModel[] = []): void {
    this.#noteDepartures(nodeId, models);
    for (const { run } of [...this.#attempts.values()]) run.onNodeGone(nodeId);
    this.#breakers.forgetNode(nodeId);
    this.#nodeFirstTokens.delete(nodeId);
    this.book.forget(nodeId);
  }

  /** The models the leaving node was the last to serve. */
  #noteDepartures(nodeId: string, models: readonly RoutedModel[]): void {
    const now = Date.now();
    for (const model of models) {
      if (this.transport.views(model.id).some((view) => view.id !== nodeId)) continue;
      const leaving: NodeView = { id: nodeId, name: nodeId, slots: 1, active: 0, activeByModel: {}, draining: false, models: [model] };
      const entry = buildCatalog([leaving], this.#policy)[0];
      if (!entry) continue;
      const { nodes: _nodes, ...departed } = entry;
      this.#departed.left(departed, now);
    }
  }

  /**
   * A node joined (or the policy changed): queued requests learn which nodes can
   * serve each of their rungs now, then try again. Node ids are planned per
   * request, so without this a queued request could not use a node that joined after it.
   */
  nodesChanged(): void {
    for (const run of this.#queue) this.#refresh(run);
    this.#wakeQueue();
  }

  /** The run learns which nodes serve each of its rungs now; false when it could not be planned again. */
  #refresh(run: Queued): boolean {
    const plan = this.plan(run.job);
    if (plan.ok) run.updateNodes(new Map(plan.rungs.map((r) => [r.model.id, r.nodeIds])));
    return plan.ok;
  }

  /** Slots freed: queued requests try again, oldest first, once per turn however many slots freed. */
  #wakeQueue(): void {
    if (this.#wakeScheduled || (this.#queue.length === 0 && this.#checks.waiting === 0)) return;
    this.#wakeScheduled = true;
    // Later, not now: the run that released a slot is mid-step and may take it again itself.
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      // Checks first: while one waits, its public node stays off new jobs.
      this.#checks.retryWaiting();
      for (const run of [...this.#queue]) run.slotFreed();
    });
  }

  /** What `/metrics` reads of the router, cheaply: the queue and every breaker's state. */
  gauges(): { queueDepth: number; breakers: { nodeId: string; modelId: string; open: boolean }[] } {
    return {
      queueDepth: this.#queue.length,
      breakers: this.#breakers.snapshot().map((b) => ({ nodeId: b.nodeId, modelId: b.modelId, open: b.state === "open" })),
    };
  }

  /** The catalog with each node's tier, load and breaker: of the nodes a key may reach, or (no access given) all. */
  status(access?: Access) {
    const all = this.transport.views();
    const views = access ? visibleNodes(all, access) : all;
    return {
      catalog: buildCatalog(views, this.#policy).map((entry) => ({
        ...entry,
        firstTokenP95Ms: this.#firstTokens.percentile(entry.id, 0.95, 1) ?? null,
        nodes: entry.nodes.map((n) => ({
          ...n,
          trust: n.trust ?? "private",
          breaker: this.#breakers.state(n.id, entry.id),
          firstTokenMedianMs: this.#nodeFirstTokens.get(n.id)?.percentile(entry.id, 0.5, 1) ?? null,
          ...(n.trust === "public" && { verification: this.book.standingOf(n.id) }),
        })),
      })),
      breakers: this.#breakers.snapshot(),
      queued: this.#queue.length,
      inFlight: this.#attempts.size,
    };
  }

  #host(run: () => JobRun): JobRunHost {
    return {
      pickNode: (modelId, nodeIds, exclude) => {
        const candidates = this.#mayTake(this.#viewsOf(nodeIds));
        const available = (nodeId: string) => this.#breakers.canDispatch(nodeId, modelId);
        const firstTokenMs = (nodeId: string) => this.#nodeFirstTokens.get(nodeId)?.percentile(modelId, 0.5, 1);
        const answerTokens = run().job.sampling.maxTokens;
        return pickNode(candidates, modelId, {
          random: this.random,
          available,
          exclude,
          firstTokenMs,
          ...(answerTokens && { answerTokens }),
        })?.id;
      },
      couldServeLater: (modelId, nodeIds) =>
        this.#viewsOf(nodeIds).some((v) => !v.draining && this.#breakers.state(v.id, modelId) !== "open") || this.#awaitingReturn(modelId),
      awaitingReturn: (modelId) => this.#awaitingReturn(modelId),
      dispatch: (nodeId, job) => this.#dispatch(nodeId, job, run()),
      cancel: (nodeId, attemptId) => this.transport.cancel(nodeId, attemptId),
      release: (nodeId, attemptId) => {
        const attempt = this.#attempts.get(attemptId);
        if (!attempt) return;
        this.#attempts.delete(attemptId);
        this.transport.release(nodeId, attempt.modelId);
        this.#wakeQueue();
      },
      nodeName: (nodeId) => this.transport.nameOf(nodeId),
      nodeTier: (nodeId) => {
        const view = this.transport.view(nodeId);
        return view ? tierOf(view) : "private";
      },
      reportHealth: (nodeId, modelId, healthy) =>
        healthy ? this.#breakers.onSuccess(nodeId, modelId) : this.#breakers.onFailure(nodeId, modelId),
      recordFirstToken: (nodeId, modelId, ms) => {
        this.#firstTokens.record(modelId, ms);
        const ofNode = this.#nodeFirstTokens.get(nodeId) ?? new FirstTokenStats(16);
        ofNode.record(modelId, ms);
        this.#nodeFirstTokens.set(nodeId, ofNode);
      },
      hedgeDelayMs: (modelId) => hedgeDelayMs(this.#firstTokens, modelId, this.#policy.hedge),
      retryDelayMs: (retry) => retryDelayMs(retry, this.#policy.retry, this.random),
      maxRetries: this.#policy.retry.maxRetries,
      enqueue: (queued) => {
        if (this.#queue.length >= this.#policy.queue.maxLength) return false;
        this.#queue.push(queued);
        // Planned when it arrived: a node that joined since may serve it now, so it looks once more (on a later turn: it is mid-step).
        if (this.#refresh(queued)) queueMicrotask(() => queued.slotFreed());
        return true;
      },
      finished: (summary) => {
        this.onFinished(run().job, summary);
        if (summary.checkable) this.#checks.check(run().job, summary.checkable);
      },
      confirmed: (check) => this.book.settle(check),
      dequeue: (queued) => {
        const index = this.#queue.indexOf(queued);
        if (index >= 0) this.#queue.splice(index, 1);
      },
      timers: this.#timers,
      timing: { ...this.timing, queueWaitMs: this.#policy.queue.maxWaitMs },
    };
  }

  #awaitingReturn(modelId: string): boolean {
    return this.transport.views(modelId).length === 0 && this.#departed.recent(modelId, Date.now()) !== undefined;
  }

  /** The views of the nodes a rung was planned with that are still here. */
  #viewsOf(nodeIds: readonly string[]): NodeView[] {
    const views: NodeView[] = [];
    for (const nodeId of nodeIds) {
      const view = this.transport.view(nodeId);
      if (view) views.push(view);
    }
    return views;
  }

  #dispatch(nodeId: string, job: Job, run: JobRun): boolean {
    // Loads changed since the node was picked: check again before taking the slot.
    const view = this.transport.view(nodeId);
    if (!view || !hasFreeSlot(view, job.model) || !this.#breakers.canDispatch(nodeId, job.model)) return false;
    // The plan holds only nodes the key may reach; checked here too, as the last step before a prompt leaves.
    if (!mayReach(accessFor(run.job), view, job.model)) return false;
    if (tierOf(view) === "public" && !this.book.mayTake(nodeId, view.active)) return false;
    if (!this.transport.send(nodeId, job)) return false;
    this.#breakers.onDispatch(nodeId, job.model);
    this.transport.take(nodeId, job.model);
    this.#attempts.set(job.jobId, { run, nodeId, modelId: job.model });
    return true;
  }

  /** Public nodes on probation take few jobs at once; the rest as they are (no copy when none is public). */
  #mayTake(views: NodeView[]): NodeView[] {
    if (!views.some((view) => view.trust === "public")) return views;
    return views.filter((view) => view.trust !== "public" || this.book.mayTake(view.id, view.active));
  }
}

/** A verify-demanding key's sampled (not greedy) request cannot be checked, so it never reaches a public node. */
function accessFor(job: FabricJob): Access {
  const { caller } = job;
  if (!caller.verify || isGreedy(job.sampling) || !caller.tiers.includes("public")) return caller;
  return { ...caller, tiers: caller.tiers.filter((tier) => tier !== "public") };
}
