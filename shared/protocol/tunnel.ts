import { z } from "zod";
import { heartbeatSchema, helloSchema } from "./messages.ts";
import { poolNameSchema } from "./pool-name.ts";

/**
 * The tunnel transport, for nodes that cannot hold a WebSocket (a proxy strips
 * `Upgrade`, the socket keeps dropping). The node serves the same protocol over
 * HTTP behind a tunnel: it registers its public URL with the edge over HTTPS,
 * the edge POSTs each `job` frame to it and reads the node's frames back as
 * NDJSON. Every call either way is signed with the secret the edge issued at
 * registration (see tunnel-signature.ts).
 */
export const TunnelPath = {
  /**
   * Edge side: a node registers (join token as bearer), renews, and leaves.
   * Since 1.5 each takes `?pool=`: register the pool to join, heartbeat and
   * leave the pool the welcome named. Signatures cover the path without it.
   */
  register: "/v1/nodes/tunnel/register",
  heartbeat: "/v1/nodes/tunnel/heartbeat",
  leave: "/v1/nodes/tunnel/leave",
  /** Node side: one job per call; the response streams its frames, one JSON object a line. */
  jobs: "/rung/jobs",
} as const;

export const tunnelRegistrationSchema = z.object({
  hello: helloSchema,
  /** Where the edge reaches the node: the tunnel's public https URL (http only on loopback, for local runs). */
  url: z
    .url({ protocol: /^https?$/ })
    .refine(isNodeUrl, "must be an https:// URL (http:// only on loopback) without credentials, query or fragment"),
});
export type TunnelRegistration = z.infer<typeof tunnelRegistrationSchema>;

export const tunnelWelcomeSchema = z.object({
  nodeId: z.string().min(1),
  /** Shared HMAC key for this registration, base64; never sent again. */
  secret: z.string().min(32),
  /** The node renews this often; the edge forgets it after three missed beats. */
  heartbeatIntervalMs: z.number().int().positive(),
  /**
   * Since 1.5: the pool the node joined. Its heartbeats and its leave name it
   * (`?pool=`), since each pool's Fabric keeps its own registrations. Absent
   * from an older edge, which has one pool: those calls then carry no query.
   */
  pool: poolNameSchema.optional(),
});
export type TunnelWelcome = z.infer<typeof tunnelWelcomeSchema>;

/** A tunnel node's renewal: the same load and speed report a socket node sends, and whether it is draining. */
export const tunnelHeartbeatSchema = z.object({
  nodeId: z.string().min(1),
  heartbeat: heartbeatSchema.optional(),
  /** True from the moment the node stops taking jobs (shutting down). */
  draining: z.boolean().optional(),
});
export type TunnelHeartbeat = z.infer<typeof tunnelHeartbeatSchema>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The edge sends users' prompts to this URL, so it must be exactly a place:
 * https (plain http only to this machine), no userinfo, and nothing after the
 * path that could redirect where the job path lands.
 */
function isNodeUrl(value: string): boolean {
  const url = new URL(value);
  if (url.username || url.password || url.search || url.hash || value.includes("?") || value.includes("#")) return false;
  return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
}
