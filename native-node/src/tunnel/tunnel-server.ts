import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { NodeSession } from "@rung/shared/node";
import {
  edgeMessageSchema,
  MAX_FRAME_BYTES,
  type NodeMessage,
  NonceWindow,
  parseFrame,
  type SignatureRefusal,
  TunnelPath,
  verifyCall,
} from "@rung/shared/protocol";
import { readCappedBody } from "../link/read-capped-body.ts";
import type { Logger } from "../log/logger.ts";

/** Who may call: the node's id and the secret the edge issued at registration. */
export interface TunnelCredentials {
  nodeId: string;
  secret: string;
}

/**
 * The node's side of the tunnel transport: a small HTTP server, on loopback
 * behind the tunnel, that takes one signed `job` per POST and streams the
 * job's frames back as NDJSON. Unsigned, forged, stale and replayed calls are
 * refused and counted; a call whose connection closes cancels its job.
 */
export class TunnelServer {
  /** Refused calls by reason, for logs and tests. */
  readonly refusals: Record<SignatureRefusal, number> = { unsigned: 0, forged: 0, stale: 0, replayed: 0 };
  readonly #server: Server;
  readonly #responses = new Map<string, ServerResponse>();
  readonly #seen = new NonceWindow();
  #credentials: TunnelCredentials | undefined;

  constructor(
    private readonly session: () => NodeSession,
    private readonly log: Logger,
  ) {
    this.#server = createServer((request, response) => void this.#serve(request, response));
  }

  /** Listen on 127.0.0.1; port 0 picks a free one. Resolves with the port. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, "127.0.0.1", resolve);
    });
    return (this.#server.address() as AddressInfo).port;
  }

  /** Registration issued (or renewed) these; calls signed otherwise are refused. */
  authorize(credentials: TunnelCredentials | undefined): void {
    this.#credentials = credentials;
  }

  /** Where the session's frames for tunnel jobs go: to the response of the call that brought the job. */
  deliver(frame: NodeMessage): void {
    if (frame.type !== "chunk" && frame.type !== "done" && frame.type !== "job-error") return;
    const response = this.#responses.get(frame.jobId);
    if (!response) return;
    response.write(`${JSON.stringify(frame)}\n`);
    if (frame.type !== "chunk") {
      this.#responses.delete(frame.jobId);
      response.end();
    }
  }

  async close(): Promise<void> {
    for (const response of this.#responses.values()) response.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST" || request.url !== TunnelPath.jobs) return reply(response, 404, "not_found", "no such route");
    const { text: body, complete } = await readCappedBody(request, MAX_FRAME_BYTES);
    if (!complete) return reply(response, 413, "too_large", `body over ${MAX_FRAME_BYTES} bytes`);
    const credentials = this.#credentials;
    if (!credentials) return reply(response, 503, "not_registered", "this node is not registered with an edge yet");

    const headers = { get: (name: string) => headerOf(request, name) };
    const verdict = await verifyCall(credentials.secret, { method: "POST", path: TunnelPath.jobs, body }, headers, this.#seen);
    if (!verdict.ok) {
      this.refusals[verdict.reason] += 1;
      this.log.warn(`refused a ${verdict.reason} call from ${request.socket.remoteAddress ?? "?"}`);
      return reply(response, 401, `signature_${verdict.reason}`, `call refused: ${verdict.reason}`);
    }
    const parsed = parseFrame(edgeMessageSchema, body);
    if (!parsed.ok || parsed.value.type !== "job") {
      return reply(response, 400, "bad_frame", parsed.ok ? "expected a job frame" : parsed.error.message);
    }
    const job = parsed.value;
    response.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
    this.#responses.set(job.jobId, response);
    // The edge aborts the call to cancel, or it went away: either way nobody wants the rest.
    response.on("close", () => {
      if (this.#responses.delete(job.jobId)) this.session().handle({ type: "cancel", jobId: job.jobId });
    });
    this.session().handle(job);
  }
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function reply(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } }));
}
