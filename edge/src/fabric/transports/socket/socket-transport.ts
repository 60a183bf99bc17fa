import type { Job } from "@rung/shared/protocol";
import {
  DONATE_CONNECT_PATH,
  type Hello,
  isCompatibleProtocol,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseNodeFrame,
  protocolMismatchMessage,
  type WireError,
  WireErrorCode,
  wireError,
} from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";
import { ApiError } from "../../../middleware/api-error.ts";
import { type Entrance, hashesAtHello, trustAtHello } from "../../entrance.ts";
import { JOIN_TOKEN_HEADER, type Transport, type TransportContext } from "../transport.ts";
import type { NodeAttachment } from "./node-attachment.ts";
import { SocketNodes } from "./socket-nodes.ts";

/** A node that keeps sending frames we cannot parse is broken or hostile: drop it after this many. */
const MAX_BAD_FRAMES = 5;
const CLOSE_POLICY = 1008;

/**
 * Nodes that dial in over a WebSocket (`/v1/nodes/connect`, `/donate/connect`),
 * on the hibernation API: frames are JSON text, and the sockets with their
 * attachments are the registry, rebuilt from them after the object wakes.
 */
export class SocketTransport implements Transport {
  readonly #nodes: SocketNodes;

  constructor(private readonly context: TransportContext) {
    this.#nodes = new SocketNodes(context.ctx, context.announcements, context.slots);
    // Keep-alives are answered without waking the object.
    context.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

  owns(nodeId: string): boolean {
    return this.#nodes.owns(nodeId);
  }

  views(modelId?: string): readonly NodeView[] {
    return this.#nodes.views(modelId);
  }

  view(nodeId: string): NodeView | undefined {
    return this.#nodes.view(nodeId);
  }

  send(nodeId: string, job: Job): boolean {
    const socket = this.#nodes.socketOf(nodeId);
    if (!socket) return false;
    try {
      socket.send(JSON.stringify(job));
      return true;
    } catch {
      return false;
    }
  }

  cancel(nodeId: string, jobId: string): boolean {
    const socket = this.#nodes.socketOf(nodeId);
    if (!socket) return false;
    try {
      socket.send(JSON.stringify({ type: "cancel", jobId }));
    } catch {}
    return true;
  }

  nameOf(nodeId: string): string | undefined {
    return this.context.announcements.get(nodeId)?.node.name;
  }

  fetch(path: string, request: Request): Promise<Response> | undefined {
    if (path === "/connect") return Promise.resolve(this.#connect(request, "connect"));
    if (path === DONATE_CONNECT_PATH) return Promise.resolve(this.#connect(request, "donate"));
    return undefined;
  }

  webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    const attachment = this.#nodes.attachmentOf(socket);
    if (!attachment) return;
    const parsed = parseNodeFrame(message);
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
    if (frame.type === "heartbeat") return this.context.announcements.heartbeat(attachment.nodeId, frame);
    this.context.host.onFrame(attachment.nodeId, frame);
  }

  webSocketClose(socket: WebSocket, code: number, reason: string): void {
    this.#forget(socket);
    // Answer the close handshake; the socket may already be closed on our side.
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {}
  }

  webSocketError(socket: WebSocket): void {
    this.#forget(socket);
  }

  #connect(request: Request, entrance: Entrance): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new ApiError({ status: 400, message: "This endpoint expects a WebSocket upgrade." }).toResponse();
    }
    // Checked here rather than in the Worker: the Fabric holds the current policy, so this costs no extra call.
    if (entrance === "donate" && !this.context.policy().donate.acceptPublicNodes) {
      const message = "This pool is not taking donated compute now: its operator has closed the donate page.";
      return new ApiError({ status: 403, message, code: "donations_closed" }).toResponse();
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.#nodes.accept(server, `node_${crypto.randomUUID()}`, entrance, request.headers.get(JOIN_TOKEN_HEADER) ?? undefined);
    return new Response(null, { status: 101, webSocket: client });
  }

  #hello(socket: WebSocket, attachment: NodeAttachment, hello: Hello): void {
    if (!isCompatibleProtocol(hello.protocol)) {
      const error = wireError(WireErrorCode.protocolVersionUnsupported, protocolMismatchMessage(hello.protocol), false);
      return this.#refuseHello(socket, error, "protocol version unsupported");
    }
    const tier = trustAtHello(attachment.entrance, hello.node);
    if (!tier.ok) return this.#refuseHello(socket, wireError(WireErrorCode.unauthorized, tier.message, false), "public entrance");
    const files = hashesAtHello(attachment.entrance, hello.models, this.context.policy().donate.ggufModels);
    if (!files.ok)
      return this.#refuseHello(socket, wireError(WireErrorCode.modelHashMismatch, files.message, false), "model hash mismatch");
    this.#nodes.join(socket, { ...attachment, trust: tier.trust }, { node: hello.node, models: hello.models, hardware: hello.hardware });
    socket.send(JSON.stringify({ type: "welcome", nodeId: attachment.nodeId, protocol: PROTOCOL_VERSION }));
    this.context.host.onNodesChanged();
  }

  /** A hello the edge will never accept: the node gets the reason to print, then the socket closes. */
  dropJoinToken(joinTokenId: string): number {
    const sockets = this.#nodes.joinedWith(joinTokenId);
    for (const socket of sockets) {
      const error = wireError(WireErrorCode.unauthorized, "the join token this node came in with was revoked", false);
      this.#refuseHello(socket, error, "join token revoked");
      this.#forget(socket);
    }
    return sockets.length;
  }

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

  /** The socket is gone: the node left, and its announcement and slot counts go with it. */
  #forget(socket: WebSocket): void {
    const nodeId = this.#nodes.remove(socket);
    if (!nodeId) return;
    this.context.host.onNodeLeft(nodeId);
    this.context.announcements.forget(nodeId);
    this.context.slots.forget(nodeId);
  }
}
