import {
  isCompatibleProtocol,
  NonceWindow,
  protocolMismatchMessage,
  SignatureHeader,
  TunnelPath,
  type TunnelWelcome,
  tunnelHeartbeatSchema,
  tunnelRegistrationSchema,
  verifyCall,
} from "@rung/shared/protocol";
import { ApiError } from "../../../middleware/api-error.ts";
import { readCappedText } from "../../../read-capped-text.ts";
import type { NodeAnnouncements } from "../../node-announcements.ts";
import { JOIN_TOKEN_HEADER } from "../transport.ts";
import { TUNNEL_HEARTBEAT_MS, type TunnelNodes } from "./tunnel-nodes.ts";

/**
 * The Fabric's side of the tunnel transport's HTTP calls: registration (the
 * Worker checked the join token), heartbeats and leaving (signed with the
 * secret issued at registration). Kept out of the Durable Object class so that
 * stays a thin shell.
 */
/** A hello lists at most 32 models; this is ample for it and small next to the object's memory. */
const MAX_REGISTRATION_BYTES = 64 * 1024;
/** Heartbeats and goodbyes are a few hundred bytes. */
const MAX_CALL_BYTES = 16 * 1024;

export class TunnelCalls {
  readonly #seen = new NonceWindow();

  constructor(
    private readonly tunnels: TunnelNodes,
    private readonly announcements: NodeAnnouncements,
    /** A node left: fail over what it was running. */
    private readonly forgetNode: (nodeId: string) => void,
    /** A node joined: requests waiting for a slot may use it. */
    private readonly nodeJoined: () => void,
  ) {}

  async handle(path: string, request: Request): Promise<Response> {
    if (path === TunnelPath.register) {
      // The Worker names the pool it admitted the node to; the node sends its heartbeats there.
      const pool = new URL(request.url).searchParams.get("pool") ?? undefined;
      const joinTokenId = request.headers.get(JOIN_TOKEN_HEADER) ?? undefined;
      return this.#register(await readCappedText(request, MAX_REGISTRATION_BYTES), pool, joinTokenId);
    }
    if (path !== TunnelPath.heartbeat && path !== TunnelPath.leave) {
      throw new ApiError({ status: 404, message: `no tunnel route ${path}`, code: "unknown_url" });
    }
    // Unknown callers are turned away before their body is read.
    const nodeId = request.headers.get(SignatureHeader.node) ?? "";
    const tunnel = this.tunnels.get(nodeId);
    if (!tunnel) throw unknownNode();
    const body = await readCappedText(request, MAX_CALL_BYTES);
    const verdict = await verifyCall(tunnel.secret, { method: "POST", path, body }, request.headers, this.#seen);
    if (!verdict.ok) throw new ApiError({ status: 401, message: `Call refused: ${verdict.reason}.`, code: `signature_${verdict.reason}` });
    if (path === TunnelPath.leave) {
      this.forgetNode(nodeId);
      return Response.json({ ok: true });
    }
    const beat = tunnelHeartbeatSchema.safeParse(safeJson(body));
    if (!beat.success || beat.data.nodeId !== nodeId) {
      throw new ApiError({ status: 400, message: "A heartbeat names the node that signed it.", code: "bad_heartbeat" });
    }
    if (!this.tunnels.renew(nodeId, beat.data.draining ?? false)) throw unknownNode();
    if (beat.data.heartbeat) this.announcements.heartbeat(nodeId, beat.data.heartbeat);
    return Response.json({ ok: true });
  }

  #register(body: string, pool: string | undefined, joinTokenId: string | undefined): Response {
    const parsed = tunnelRegistrationSchema.safeParse(safeJson(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError({
        status: 400,
        message: `Invalid registration at ${issue?.path.join(".")}: ${issue?.message}`,
        code: "bad_registration",
      });
    }
    const { hello, url } = parsed.data;
    if (!isCompatibleProtocol(hello.protocol)) {
      throw new ApiError({ status: 400, message: protocolMismatchMessage(hello.protocol), code: "protocol_version_unsupported" });
    }
    // A node that reaches the edge through a tunnel joins without a socket.
    const tunnel = this.tunnels.register(url, joinTokenId);
    this.announcements.join(tunnel.nodeId, { node: hello.node, models: hello.models, hardware: hello.hardware });
    const welcome: TunnelWelcome = {
      nodeId: tunnel.nodeId,
      secret: tunnel.secret,
      heartbeatIntervalMs: TUNNEL_HEARTBEAT_MS,
      ...(pool && { pool }),
    };
    this.nodeJoined();
    return Response.json(welcome);
  }
}

function unknownNode(): ApiError {
  return new ApiError({
    status: 404,
    message: "This edge does not know the node (expired or never registered): register again.",
    code: "unknown_node",
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
