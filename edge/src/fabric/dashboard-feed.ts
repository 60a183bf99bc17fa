import {
  DASHBOARD_AUTH_TIMEOUT_MS,
  type DashboardFrame,
  type DashboardPool,
  dashboardAuthSchema,
  parseFrame,
  type RequestRoute,
  WireErrorCode,
  wireError,
} from "@rung/shared/protocol";
import { ApiError } from "../middleware/api-error.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { RunSummary } from "./job-run-host.ts";
import { TrafficSeries } from "./traffic-series.ts";

/** The tag of dashboard sockets, so the object tells them from nodes' (whose sockets carry no attachment of this shape). */
export const DASHBOARD_TAG = "dashboard";
/** Routes kept in memory for a dashboard that opens. */
const RECENT_ROUTES = 100;
/** Node and load changes reach dashboards at most this often: a busy pool sends one `nodes` frame, not one per request. */
const POOL_EVERY_MS = 250;
const CLOSE_POLICY = 1008;

/** The router's status as the dashboard shows it: the catalog's nodes with their engine, which the catalog leaves out. */
export function dashboardPool(status: DashboardPool, engineOf: (nodeId: string) => string | undefined): DashboardPool {
  const catalog = status.catalog.map((entry) => ({
    ...entry,
    nodes: entry.nodes.map((node) => ({ ...node, engine: engineOf(node.id) ?? node.kind ?? "unknown" })),
  }));
  return { catalog, queued: status.queued, inFlight: status.inFlight };
}

/** What a dashboard socket keeps on itself, so it survives hibernation. */
interface DashboardAttachment {
  dashboard: true;
  openedAt: number;
  authed: boolean;
}

/**
 * The operator's live window on a pool: dashboards connect over hibernatable
 * sockets, send the admin key, and get a snapshot then every node change and
 * request end. Routes and traffic are recorded whether or not a dashboard
 * watches (a route is a reference to the trace the request already built);
 * frames are built only when one does.
 */
export class DashboardFeed {
  readonly #routes: RequestRoute[] = [];
  readonly #traffic: TrafficSeries;
  /** Open dashboard sockets and whether each sent the key; undefined until first needed after the object woke. */
  #viewers: Map<WebSocket, DashboardAttachment> | undefined;
  #authed = 0;
  #poolSoon: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly isAdminKey: (key: string) => boolean,
    private readonly pool: () => DashboardPool,
  ) {
    this.#traffic = new TrafficSeries(ctx.storage);
  }

  connect(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new ApiError({ status: 400, message: "The dashboard feed expects a WebSocket upgrade." }).toResponse();
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [DASHBOARD_TAG]);
    const attachment: DashboardAttachment = { dashboard: true, openedAt: Date.now(), authed: false };
    server.serializeAttachment(attachment);
    this.#registry().set(server, attachment);
    // Closed unless its key came by then; the pending timer keeps the object awake that long, never longer.
    setTimeout(() => this.#closeSilent(), DASHBOARD_AUTH_TIMEOUT_MS + 50);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Whether the socket is a dashboard's: the object's socket events go here, not to the transports. */
  owns(socket: WebSocket): boolean {
    return this.#registry().has(socket);
  }

  message(socket: WebSocket, data: string | ArrayBuffer): void {
    const attachment = this.#registry().get(socket);
    if (!attachment || attachment.authed) return;
    const parsed = parseFrame(dashboardAuthSchema, data);
    if (!parsed.ok) return this.#refuse(socket, parsed.error.message);
    if (!this.isAdminKey(parsed.value.key)) return this.#refuse(socket, "Incorrect admin key: give RUNG_ADMIN_KEY.");
    const authed: DashboardAttachment = { ...attachment, authed: true };
    socket.serializeAttachment(authed);
    this.#registry().set(socket, authed);
    this.#authed++;
    this.#send(socket, { type: "snapshot", pool: this.pool(), routes: this.#routes, traffic: this.#traffic.rows() });
  }

  closed(socket: WebSocket, code = 1000, reason = ""): void {
    const attachment = this.#registry().get(socket);
    if (!attachment) return;
    this.#registry().delete(socket);
    if (attachment.authed) this.#authed--;
    // Answer the close handshake; the socket may already be closed on our side.
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {}
  }

  /** Nodes joined, left or changed load. Nothing to do when nobody watches. */
  nodesChanged(): void {
    if (this.#watched()) this.#poolSoon ??= setTimeout(() => this.#sendPool(), POOL_EVERY_MS);
  }

  /** A request ended: its route and traffic are kept, and watching dashboards told. */
  requestEnded(job: FabricJob, summary: RunSummary): void {
    const route: RequestRoute = {
      id: job.requestId,
      at: Date.now(),
      requested: job.model,
      status: summary.status,
      totalMs: summary.totalMs,
      attempts: summary.attempts as RequestRoute["attempts"],
      ...(summary.model !== undefined && { model: summary.model }),
      ...(summary.firstTokenMs !== undefined && { firstTokenMs: summary.firstTokenMs }),
      ...(summary.usage && { completionTokens: summary.usage.completionTokens }),
    };
    if (this.#routes.push(route) > RECENT_ROUTES) this.#routes.shift();
    const traffic = this.#traffic.record({
      model: route.model ?? route.requested,
      status: route.status,
      totalMs: route.totalMs,
      completionTokens: route.completionTokens ?? 0,
      escalations: route.attempts.filter((attempt) => attempt.outcome === "escalated").length,
    });
    if (!this.#watched()) return;
    this.#broadcast({ type: "request", route, traffic });
    this.nodesChanged();
  }

  /** A request refused before it ran (a key's limit, no node to serve it): a route without attempts, an error in its minute. */
  refused(job: FabricJob, status: number): void {
    this.requestEnded(job, { status, totalMs: 0, attempts: [] });
  }

  #watched(): boolean {
    this.#registry();
    return this.#authed > 0;
  }

  #sendPool(): void {
    this.#poolSoon = undefined;
    if (this.#watched()) this.#broadcast({ type: "nodes", pool: this.pool() });
  }

  #broadcast(frame: DashboardFrame): void {
    const text = JSON.stringify(frame);
    for (const [socket, attachment] of this.#registry()) {
      if (!attachment.authed) continue;
      try {
        socket.send(text);
      } catch {}
    }
  }

  #send(socket: WebSocket, frame: DashboardFrame): void {
    try {
      socket.send(JSON.stringify(frame));
    } catch {}
  }

  #refuse(socket: WebSocket, message: string): void {
    this.#send(socket, { type: "error", error: wireError(WireErrorCode.unauthorized, message, false) });
    this.closed(socket, CLOSE_POLICY, "unauthorized");
  }

  /** Sockets that sent no key in time are closed, with the reason. */
  #closeSilent(): void {
    const before = Date.now() - DASHBOARD_AUTH_TIMEOUT_MS;
    for (const [socket, attachment] of this.#registry()) {
      if (!attachment.authed && attachment.openedAt <= before) {
        this.#refuse(socket, `No admin key within ${DASHBOARD_AUTH_TIMEOUT_MS / 1000} s: send {"type":"auth","key":"…"} first.`);
      }
    }
  }

  /** The dashboards' sockets, rebuilt once from the runtime's after the object (re)started. */
  #registry(): Map<WebSocket, DashboardAttachment> {
    if (this.#viewers) return this.#viewers;
    this.#viewers = new Map();
    for (const socket of this.ctx.getWebSockets(DASHBOARD_TAG)) {
      const attachment = socket.deserializeAttachment() as DashboardAttachment | null;
      if (!attachment?.dashboard) continue;
      this.#viewers.set(socket, attachment);
      if (attachment.authed) this.#authed++;
    }
    // One that was waiting for its key when the object slept has had its few seconds.
    queueMicrotask(() => this.#closeSilent());
    return this.#viewers;
  }
}
