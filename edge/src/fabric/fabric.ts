import { DurableObject } from "cloudflare:workers";
import { DASHBOARD_CONNECT_PATH } from "@rung/shared/protocol";
import { buildCatalog, type CatalogEntry, type NodeView, type Policy, type RoutedModel, seededRandom } from "@rung/shared/routing";
import type { Env } from "../env.ts";
import type { MetricFamily } from "../metrics/index.ts";
import { ApiError } from "../middleware/api-error.ts";
import { isAdminKey } from "../middleware/auth.ts";
import { DashboardFeed, dashboardPool } from "./dashboard-feed.ts";
import type { FabricJob } from "./fabric-job.ts";
import { LadderRouter } from "./ladder-router.ts";
import { NodeAnnouncements } from "./node-announcements.ts";
import { type PolicyChange, PolicyStore } from "./policy-store.ts";
import { RequestBooks } from "./request-books.ts";
import { SlotCounts } from "./slot-counts.ts";
import { buildTransports } from "./transports/build-transports.ts";
import type { Transport } from "./transports/transport.ts";
import type { UsageQuery, UsageRow } from "./usage-ledger.ts";
import { type Quarantine, VerificationBook } from "./verification-book.ts";
import { type Access, tierOf, visibleNodes } from "./visible-nodes.ts";

/**
 * One pool of nodes. A thin shell over the hibernation API: its transports
 * hold the nodes (sockets and their attachments are the registry), the
 * operator's policy is in storage, and routing state lives in the `LadderRouter`.
 */
export class Fabric extends DurableObject<Env> {
  readonly #slots = new SlotCounts();
  readonly #transports: Transport[];
  readonly #policies: PolicyStore;
  readonly #router: LadderRouter;
  readonly #books: RequestBooks;
  readonly #verification: VerificationBook;
  readonly #feed: DashboardFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const announcements = new NodeAnnouncements(ctx.storage);
    this.#policies = new PolicyStore(ctx.storage, env.RUNG_POLICY);
    const random = randomFrom(env.RUNG_RANDOM_SEED);
    this.#verification = new VerificationBook(ctx.storage, () => this.#policies.current.verification, random);
    this.#books = new RequestBooks(
      ctx.storage,
      () => this.#router.policy,
      (modelId) => this.#model(modelId),
    );
    this.#feed = new DashboardFeed(
      ctx,
      (key) => isAdminKey(env, key),
      () => dashboardPool(this.#router.status(), (nodeId) => this.#view(nodeId)?.engine),
    );
    this.#transports = buildTransports({
      ctx,
      env,
      announcements,
      slots: this.#slots,
      policy: () => this.#policies.current,
      host: {
        onFrame: (nodeId, frame) => this.#router.routeFrame(nodeId, frame),
        onBroken: (nodeId, jobId) => this.#router.callBroken(nodeId, jobId),
        // Asked before the announcement goes: which models the node served, so requests for one it was the last to serve wait for its return.
        onNodeLeft: (nodeId) => {
          this.#router.nodeGone(nodeId, announcements.get(nodeId)?.models);
          this.#feed.nodesChanged();
        },
        onNodesChanged: () => {
          this.#router.nodesChanged();
          this.#feed.nodesChanged();
        },
      },
    });
    const vanished = announcements.restore((nodeId) => this.#transports.some((transport) => transport.owns(nodeId)));
    this.#router = new LadderRouter(
      this.#policies.current,
      {
        views: (modelId) => this.#views(modelId),
        view: (nodeId) => this.#view(nodeId),
        // A transport that does not carry the node says false, as one whose node cannot be reached now.
        send: (nodeId, job) => this.#transports.some((transport) => transport.send(nodeId, job)),
        // Every transport is asked: a job's call may outlive its node (a tunnel that expired).
        cancel: (nodeId, jobId) => {
          this.#transports.some((transport) => transport.cancel(nodeId, jobId));
        },
        take: (nodeId, modelId) => this.#slots.take(nodeId, modelId),
        release: (nodeId, modelId) => this.#slots.release(nodeId, modelId),
        // Asked of every transport, not of the node's owner: a node that is leaving keeps its name in its last traces.
        nameOf: (nodeId) => this.#nameOf(nodeId),
      },
      {
        tokenTimeoutMs: msFrom(env.RUNG_TOKEN_TIMEOUT_MS, 30_000),
        requestTimeoutMs: msFrom(env.RUNG_REQUEST_TIMEOUT_MS, 600_000),
        gapTimeoutMs: 2_000,
      },
      (job, summary) => {
        this.#books.finished(job, summary);
        this.#feed.requestEnded(job, summary);
      },
      this.#verification,
      random,
    );
    // Nodes that vanished while the object was gone (a restart, a deploy): their models just lost them, so a
    // request for one waits for a node to come back (503 with Retry-After at worst) rather than getting a 404.
    for (const [nodeId, announcement] of vanished) this.#router.nodeGone(nodeId, announcement.models);
  }

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/jobs" && request.method === "POST") return this.#submit(request);
    if (path === DASHBOARD_CONNECT_PATH) return this.#feed.connect(request);
    for (const transport of this.#transports) {
      const answer = transport.fetch?.(path, request);
      if (answer) {
        return answer.catch((error: unknown) => {
          if (error instanceof ApiError) return error.toResponse();
          throw error;
        });
      }
    }
    return new ApiError({ status: 404, message: `fabric has no route ${path}` }).toResponse();
  }

  /** The merged catalog of models that connected nodes and upstreams serve. */
  catalog(access?: Access): CatalogEntry[] {
    const views = this.#views();
    return buildCatalog(access ? visibleNodes(views, access) : views, this.#router.policy);
  }

  /** What an operator's status page shows: the catalog with each node's load and breaker, the queue, answers per tier. */
  status(access?: Access) {
    return {
      ...this.#router.status(access),
      servedByTier: this.#books.servedByTier,
      // The evidence's texts answer other keys' prompts: a key sees who was quarantined and why, the texts only the operator.
      quarantined: this.#verification.quarantines().map(({ answer: _a, expected: _e, ...rest }) => rest),
      defaultProfile: this.#router.policy.defaultProfile,
      policy: this.#policies.describe(),
    };
  }

  policy(): Policy {
    return this.#router.policy;
  }

  /** Every quarantine kept, with its evidence: the operator's, through the admin API. */
  quarantines(): readonly Quarantine[] {
    return this.#verification.quarantines();
  }

  /** Replaces the policy (validated); an invalid one is refused and the old one stays. */
  setPolicy(input: unknown): PolicyChange {
    const change = this.#policies.replace(input);
    if (change.ok) this.#router.setPolicy(change.policy);
    return change;
  }

  /** Back to the policy from `RUNG_POLICY` (or the defaults). */
  resetPolicy(): Policy {
    const policy = this.#policies.reset();
    this.#router.setPolicy(policy);
    return policy;
  }

  /**
   * Names of the nodes taking jobs now (draining ones excluded), for health checks.
   * Upstream APIs are the operator's, not nodes that joined: they are not listed.
   */
  nodeNames(access?: Access): string[] {
    const views = this.#views();
    return (access ? visibleNodes(views, access) : views).filter((n) => n.kind !== "upstream" && !n.draining).map((n) => n.name);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.#feed.owns(socket)) return this.#feed.message(socket, message);
    for (const transport of this.#transports) transport.webSocketMessage?.(socket, message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    if (this.#feed.owns(socket)) return this.#feed.closed(socket, code, reason);
    for (const transport of this.#transports) transport.webSocketClose?.(socket, code, reason);
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    if (this.#feed.owns(socket)) return this.#feed.closed(socket);
    for (const transport of this.#transports) transport.webSocketError?.(socket);
  }

  async #submit(request: Request): Promise<Response> {
    // Only this pool's Worker reaches the object, with a job it built from a request it validated: not parsed twice.
    const job = await request.json<FabricJob>();
    const admission = this.#books.admit(job);
    if (!admission.ok) {
      const { status, message, code, headers } = admission;
      this.#feed.refused(job, status);
      return new ApiError({ status, message, code, headers: { ...headers } }).toResponse();
    }
    const plan = this.#router.plan(job);
    if (!plan.ok) {
      this.#books.refused(job, plan.status);
      this.#feed.refused(job, plan.status);
      return withHeaders(new ApiError({ status: plan.status, message: plan.message, code: plan.code }).toResponse(), admission.headers);
    }
    const run = this.#router.start(job, plan);
    // A client that leaves before the answer commits must not keep a node busy.
    request.signal.addEventListener("abort", () => run.abandon());
    return withHeaders(await run.response, admission.headers);
  }

  /** A join token was revoked: the nodes that came in with it leave now, their jobs moving on. */
  dropJoinToken(joinTokenId: string): number {
    let dropped = 0;
    for (const transport of this.#transports) dropped += transport.dropJoinToken?.(joinTokenId) ?? 0;
    return dropped;
  }

  /** This pool's metrics, labelled with its name (which the object does not know itself). */
  metrics(pool: string): MetricFamily[] {
    const { queueDepth, breakers } = this.#router.gauges();
    const nodes = this.#views()
      .filter((view) => !view.draining)
      .map((view) => ({ tier: tierOf(view), kind: view.kind ?? "native", engine: view.engine ?? view.kind ?? "unknown" }));
    const breakerGauges = breakers.map((b) => ({ node: this.#nameOf(b.nodeId), model: b.modelId, open: b.open }));
    return [...this.#books.families(pool, { queueDepth, breakers: breakerGauges, nodes }), ...this.#verification.families(pool)];
  }

  /** Usage of this pool's keys, by day, key and model. */
  usage(query: UsageQuery): UsageRow[] {
    return this.#books.usage(query);
  }

  /** What a model is, as a node that serves it (or an upstream) announced it. */
  #model(modelId: string): RoutedModel | undefined {
    for (const view of this.#views(modelId)) {
      const model = view.models.find((m) => m.id === modelId);
      if (model) return model;
    }
    return undefined;
  }

  /**
   * Nodes on every transport (sockets, tunnels, the operator's upstream APIs),
   * or those serving `modelId`: to the router they are alike. A pool whose
   * nodes are all on one transport gets that transport's own list, unchanged.
   */
  #views(modelId?: string): readonly NodeView[] {
    const lists = this.#transports.map((transport) => transport.views(modelId)).filter((views) => views.length > 0);
    const views = lists.length === 1 ? lists[0]! : lists.flat();
    // A quarantined node stays connected (a liar told it was caught would come back as a new tab) but is never routed to.
    const book = this.#verification;
    return book.anyQuarantined ? views.filter((view) => !book.isQuarantined(view.id)) : views;
  }

  #view(nodeId: string): NodeView | undefined {
    if (this.#verification.isQuarantined(nodeId)) return undefined;
    for (const transport of this.#transports) {
      const view = transport.view(nodeId);
      if (view) return view;
    }
    return undefined;
  }

  #nameOf(nodeId: string): string {
    for (const transport of this.#transports) {
      const name = transport.nameOf(nodeId);
      if (name !== undefined) return name;
    }
    return nodeId;
  }
}

/** The `x-ratelimit-*` headers of the key's admission, on whatever the answer is. */
function withHeaders(response: Response, headers: Readonly<Record<string, string>>): Response {
  for (const name in headers) response.headers.set(name, headers[name]!);
  return response;
}

function msFrom(value: string | undefined, fallback: number): number {
  const ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

/** `RUNG_RANDOM_SEED` (tests only) makes node choice repeatable; unset or not a number: `Math.random`. */
function randomFrom(seed: string | undefined): () => number {
  const value = seed?.trim() ? Number(seed) : Number.NaN;
  return Number.isFinite(value) ? seededRandom(value) : Math.random;
}
