import {
  NonceWindow,
  SignatureHeader,
  TunnelPath,
  isCompatibleProtocol,
  protocolMismatchMessage,
  tunnelHeartbeatSchema,
  tunnelRegistrationSchema,
  verifyCall,
  type TunnelWelcome,
} from "@rung/shared/protocol";
import { ApiError } from "../middleware/api-error.ts";
import type { NodeRegistry } from "./node-registry.ts";
import { TUNNEL_HEARTBEAT_MS } from "./tunnel-nodes.ts";

/**
 * The Fabric's side of the tunnel transport's HTTP calls: registration (the
 * Worker checked the join token), heartbeats and leaving (signed with the
 * secret issued at registration). Kept out of the Durable Object class so that
 * stays a thin shell.
 */
export class TunnelCalls {
  readonly #seen = new NonceWindow();

  constructor(
    private readonly nodes: NodeRegistry,
    /** A node left: fail over what it was running. */
    private readonly forgetNode: (nodeId: string) => void,
  ) {}

  async handle(path: string, request: Request): Promise<Response> {
    const body = await request.text();
    if (path === TunnelPath.register) return this.#register(body);
    const nodeId = await this.#verified(path, body, request.headers);
    if (path === TunnelPath.heartbeat) {
      tunnelHeartbeatSchema.parse(JSON.parse(body));
      if (!this.nodes.tunnels.renew(nodeId)) throw unknownNode();
      return Response.json({ ok: true });
    }
    this.forgetNode(nodeId);
    return Response.json({ ok: true });
  }

  #register(body: string): Response {
    const parsed = tunnelRegistrationSchema.safeParse(safeJson(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError({ status: 400, message: `Invalid registration at ${issue?.path.join(".")}: ${issue?.message}`, code: "bad_registration" });
    }
    const { hello, url } = parsed.data;
    if (!isCompatibleProtocol(hello.protocol)) {
      throw new ApiError({ status: 400, message: protocolMismatchMessage(hello.protocol), code: "protocol_version_unsupported" });
    }
    const tunnel = this.nodes.joinTunnel(url, { node: hello.node, models: hello.models, hardware: hello.hardware });
    const welcome: TunnelWelcome = { nodeId: tunnel.nodeId, secret: tunnel.secret, heartbeatIntervalMs: TUNNEL_HEARTBEAT_MS };
    return Response.json(welcome);
  }

  async #verified(path: string, body: string, headers: Headers): Promise<string> {
    const nodeId = headers.get(SignatureHeader.node) ?? "";
    const tunnel = this.nodes.tunnels.get(nodeId);
    if (!tunnel) throw unknownNode();
    const verdict = await verifyCall(tunnel.secret, { method: "POST", path, body }, headers, this.#seen);
    if (!verdict.ok) throw new ApiError({ status: 401, message: `Call refused: ${verdict.reason}.`, code: `signature_${verdict.reason}` });
    return nodeId;
  }
}

function unknownNode(): ApiError {
  return new ApiError({ status: 404, message: "This edge does not know the node (expired or never registered): register again.", code: "unknown_node" });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
