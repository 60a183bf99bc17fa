import { DurableObject } from "cloudflare:workers";
import {
  DONATE_CONNECT_PATH,
  type EdgeMessage,
  type Hello,
  isCompatibleProtocol,
  nodeMessageSchema,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
  protocolMismatchMessage,
  type WireError,
  WireErrorCode,
  wireError,
} from "@rung/shared/protocol";
import { buildCatalog, type CatalogEntry, type NodeView, type Policy } from "@rung/shared/routing";
import type { Env } from "../env.ts";
import { ApiError } from "../middleware/api-error.ts";
import { type Entrance, trustAtHello } from "./entrance.ts";
import { fabricJobSchema } from "./fabric-job.ts";
import { LadderRouter } from "./ladder-router.ts";
import { type NodeAttachment, NodeRegistry } from "./node-registry.ts";
import { type PolicyChange, PolicyStore } from "./policy-store.ts";
import { TunnelCalls } from "./tunnel-calls.ts";
import { TunnelDispatcher } from "./tunnel-dispatcher.ts";
import { UpstreamDispatcher } from "./upstream-dispatcher.ts";
import { upstreamNodesOf, upstreamOf } from "./upstream-nodes.ts";

/** A node that keeps sending frames we cannot parse is broken or hostile: drop it after this many. */
const MAX_BAD_FRAMES = 5;
const CLOSE_POLICY = 1008;

/**
 * One pool of nodes. A thin shell over the hibernation API: node sockets and
 * their attachments are the registry, the operator's policy is in storage,
 * and routing state lives in the `LadderRouter`.
 */
export class Fabric extends DurableObject<Env> {
  readonly #nodes: NodeRegistry;
  readonly #tunnelCalls: TunnelCalls;
  readonly #tunnels: TunnelDispatcher;
  readonly #upstreams: UpstreamDispatcher;
  readonly #policies: PolicyStore;
  readonly #router: LadderRouter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#nodes = new NodeRegistry(ctx);
    this.#nodes.forgetDeparted();
    this.#tunnelCalls = new TunnelCalls(
      this.#nodes,
      (nodeId) => this.#forgetNode(nodeId),
      () => this.#router.nodesChanged(),
    );
    this.#tunnels = new TunnelDispatcher({
      onFrame: (nodeId, frame) => this.#router.routeFrame(nodeId, frame),
      onBroken: (nodeId, jobId) => this.#router.callBroken(nodeId, jobId),
    });
    this.#upstreams = new UpstreamDispatcher({ onFrame: (nodeId, frame) => this.#router.routeFrame(nodeId, frame) }, env);
    this.#policies = new PolicyStore(ctx.storage, env.RUNG_POLICY);
    this.#router = new LadderRouter(
      this.#policies.current,
      {
        views: () => this.#views(),
        send: (nodeId, frame) => this.#send(nodeId, frame),
        take: (nodeId, modelId) => this.#nodes.take(nodeId, modelId),
        release: (nodeId, modelId) => this.#nodes.release(nodeId, modelId),
        nameOf: (nodeId) => upstreamOf(this.#router.policy.upstreams, nodeId)?.name ?? this.#nodes.nameOf(nodeId),
      },
      {
        tokenTimeoutMs: msFrom(env.RUNG_TOKEN_TIMEOUT_MS, 30_000),
        requestTimeoutMs: msFrom(env.RUNG_REQUEST_TIMEOUT_MS, 600_000),
        gapTimeoutMs: 2_000,
      },
    );
    // Keep-alives are answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/connect") return this.#connect(request, "connect");
    if (path === DONATE_CONNECT_PATH) return this.#connect(request, "donate");
    if (path === "/jobs" && request.method === "POST") return this.#submit(request);
    if (path.startsWith("/v1/nodes/tunnel/") && request.method === "POST") {
      return this.#tunnelCalls.handle(path, request).catch((error: unknown) => {
        if (error instanceof ApiError) return error.toResponse();
        throw error;
      });
    }
    return new ApiError({ status: 404, message: `fabric has no route ${path}` }).toResponse();
  }

  /** The merged catalog of models that connected nodes and upstreams serve. */
  catalog(): CatalogEntry[] {
    return buildCatalog(this.#views(), this.#router.policy);
  }

  /** What an operator's status page shows: the catalog with each node's load and breaker, the queue. */
  status() {
    return { ...this.#router.status(), defaultProfile: this.#router.policy.defaultProfile, policy: this.#policies.describe() };
  }

  policy(): Policy {
    return this.#router.policy;
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

  /** Names of the nodes taking jobs now (draining ones excluded), for health checks. */
  nodeNames(): string[] {
    return this.#nodes
      .views()
      .filter((n) => !n.draining)
      .map((n) => n.name);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = this.#nodes.attachmentOf(socket);
    if (!attachment) return;
    const parsed = parseFrame(nodeMessageSchema, message);
    if (!parsed.ok) return this.#badFrame(socket, attachment, parsed.error);

    const frame = parsed.value;
    if (frame.type === "hello") return this.#hello(socket, attachment, frame);
    if (!attachment.joined) {
      return this.#badFrame(socket, attachment, wireError(WireErrorCode.badFrame, "send hello first", false));
    }
    if (frame.type === "draining") {
      this.#nodes.update(socket, { ...attachment, draining: true });
      return;
    }
    if (frame.type === "heartbeat") return this.#nodes.heartbeat(attachment.nodeId, frame);
    this.#router.routeFrame(attachment.nodeId, frame);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.#forget(socket);
    // Answer the close handshake; the socket may already be closed on our side.
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {}
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    this.#forget(socket);
  }

  #connect(request: Request, entrance: Entrance): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new ApiError({ status: 400, message: "This endpoint expects a WebSocket upgrade." }).toResponse();
    }
    // Checked here rather than in the Worker: the Fabric holds the current policy, so this costs no extra call.
    if (entrance === "donate" && !this.#router.policy.donate.acceptPublicNodes) {
      const message = "This pool is not taking donated compute now: its operator has closed the donate page.";
      return new ApiError({ status: 403, message, code: "donations_closed" }).toResponse();
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.#nodes.accept(server, `node_${crypto.randomUUID()}`, entrance);
    return new Response(null, { status: 101, webSocket: client });
  }

  async #submit(request: Request): Promise<Response> {
    const job = fabricJobSchema.parse(await request.json());
    const plan = this.#router.plan(job);
    if (!plan.ok) return new ApiError({ status: plan.status, message: plan.message, code: plan.code }).toResponse();
    const run = this.#router.start(job, plan);
    // A client that leaves before the answer commits must not keep a node busy.
    request.signal.addEventListener("abort", () => run.abandon());
    return run.response;
  }

  /** Nodes on sockets and tunnels, and the operator's upstream APIs: to the router they are alike. */
  #views(): NodeView[] {
    const upstreams = upstreamNodesOf(this.#router.policy.upstreams, (nodeId) => this.#nodes.activeByModel(nodeId));
    return [...this.#nodes.views(), ...upstreams];
  }

  #send(nodeId: string, frame: EdgeMessage): boolean {
    if (frame.type === "cancel" && (this.#tunnels.cancel(frame.jobId) || this.#upstreams.cancel(frame.jobId))) return true;
    const upstream = upstreamOf(this.#router.policy.upstreams, nodeId);
    if (upstream) {
      if (frame.type === "job") this.#upstreams.send(nodeId, upstream, frame);
      return true;
    }
    const tunnel = this.#nodes.tunnels.get(nodeId);
    if (tunnel) return this.#tunnels.send(tunnel, frame);
    const socket = this.#nodes.socketOf(nodeId);
    if (!socket) return false;
    try {
      socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #hello(socket: WebSocket, attachment: NodeAttachment, hello: Hello): void {
    if (!isCompatibleProtocol(hello.protocol)) {
      const error = wireError(WireErrorCode.protocolVersionUnsupported, protocolMismatchMessage(hello.protocol), false);
      return this.#refuseHello(socket, error, "protocol version unsupported");
    }
    const tier = trustAtHello(attachment.entrance, hello.node);
    if (!tier.ok) return this.#refuseHello(socket, wireError(WireErrorCode.unauthorized, tier.message, false), "public entrance");
    this.#nodes.join(socket, { ...attachment, trust: tier.trust }, { node: hello.node, models: hello.models, hardware: hello.hardware });
    socket.send(JSON.stringify({ type: "welcome", nodeId: attachment.nodeId, protocol: PROTOCOL_VERSION }));
    this.#router.nodesChanged();
  }

  /** A hello the edge will never accept: the node gets the reason to print, then the socket closes. */
  #refuseHello(socket: WebSocket, error: WireError, reason: string): void {
    socket.send(JSON.stringify({ type: "error", error, fatal: true }));
    socket.close(CLOSE_POLICY, reason);
  }

  #badFrame(socket: WebSocket, attachment: NodeAttachment, error: WireError): void {
    const badFrames = attachment.badFrames + 1;
    const fatal = badFrames >= MAX_BAD_FRAMES;
    this.#nodes.update(socket, { ...attachment, badFrames });
    socket.send(JSON.stringify({ type: "error", error, fatal }));
    if (fatal) {
      socket.close(CLOSE_POLICY, "too many bad frames");
      this.#forget(socket);
    }
  }

  #forget(socket: WebSocket): void {
    const nodeId = this.#nodes.attachmentOf(socket)?.nodeId;
    if (nodeId) this.#forgetNode(nodeId);
  }

  /** A node left: every attempt it held moves on to the next candidate. */
  #forgetNode(nodeId: string): void {
    this.#router.nodeGone(nodeId);
    this.#nodes.leave(nodeId);
  }
}

function msFrom(value: string | undefined, fallback: number): number {
  const ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}
