import { performance } from "node:perf_hooks";
import { SIGNATURE_WINDOW_MS } from "@rung/shared/protocol";
import { WebSocket } from "ws";
import { connectHeaders, connectUrl, edgeHttpUrl } from "../../link/connect-url.ts";
import { readRefusal } from "../../link/read-refusal.ts";
import { type DoctorCheck, fail, pass } from "./doctor-check.ts";

/** Long enough for a cold Worker far away, short enough that doctor answers promptly. */
const TIMEOUT_MS = 5_000;
/**
 * Past this, signed tunnel calls come close to being refused as stale: half the
 * signature window, because the skew read from a `Date` header is only good to a
 * second plus the request's latency, and clocks drift on between NTP syncs.
 */
const MAX_SKEW_S = SIGNATURE_WINDOW_MS / 2 / 1000;

export interface EdgeFacts {
  health?: { status: number; latencyMs: number; models: string[] };
  /** The edge's clock minus ours, in seconds (the `Date` header has one-second resolution). */
  clockSkewS?: number;
  connect?: { status: number; refusal?: string };
}

/** `GET <edge>/health` (with clock skew from its `Date` header) and a WebSocket upgrade that is closed at once. */
export async function checkEdge(
  edge: string | undefined,
  token: string | undefined,
  pool?: string,
): Promise<{ checks: DoctorCheck[]; facts: EdgeFacts }> {
  if (!edge) {
    return {
      checks: [fail("edge", "no edge configured", 'give it with --edge https://..., RUNG_EDGE or "edge" in the config file')],
      facts: {},
    };
  }
  const facts: EdgeFacts = {};
  const checks = [await checkHealth(edge, facts)];
  if (facts.clockSkewS !== undefined) checks.push(clockCheck(facts.clockSkewS));
  // workerd under `wrangler dev` sends no Date header; Cloudflare's edge does.
  else if (facts.health) checks.push(pass("clock", "not checked: the edge sent no Date header"));
  checks.push(await checkConnect(edge, token, pool, facts));
  return { checks, facts };
}

async function checkHealth(edge: string, facts: EdgeFacts): Promise<DoctorCheck> {
  const url = edgeHttpUrl(edge, "/health");
  const started = performance.now();
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    return fail(
      "edge http",
      `GET ${url} failed: ${networkReason(error)}`,
      "check --edge, and that the edge is running and reachable from this machine (firewall, proxy, DNS)",
    );
  }
  const latencyMs = Math.round(performance.now() - started);
  const date = response.headers.get("date");
  if (date && !Number.isNaN(Date.parse(date))) {
    // Compare with the midpoint of the round trip: the edge stamped its answer somewhere inside it.
    facts.clockSkewS = Math.round((Date.parse(date) - (sentAt + latencyMs / 2)) / 100) / 10;
  }
  const body: unknown = await response.json().catch(() => undefined);
  const listed = (body as { models?: unknown } | undefined)?.models;
  const models = Array.isArray(listed) ? listed.filter((m): m is string => typeof m === "string") : [];
  facts.health = { status: response.status, latencyMs, models };
  if (!response.ok) {
    return fail(
      "edge http",
      `GET ${url} answered ${response.status} in ${latencyMs} ms`,
      "check that --edge is the edge's base URL (its /health answers 200)",
    );
  }
  return pass(
    "edge http",
    `GET ${url}: ${response.status} in ${latencyMs} ms; models: ${models.length > 0 ? models.join(", ") : "none yet"}`,
  );
}

function clockCheck(skewS: number): DoctorCheck {
  const detail = `${Math.abs(skewS)} s ${skewS > 0 ? "behind" : "ahead of"} the edge's clock`;
  if (Math.abs(skewS) > MAX_SKEW_S) return fail("clock", detail, "turn on time sync: sudo timedatectl set-ntp true");
  return pass("clock", Math.abs(skewS) < 1 ? "in step with the edge (within 1 s)" : detail);
}

/** Open the node socket (with `?pool=` as start would) with the join token and close it before any hello: the edge registers nothing. */
function checkConnect(edge: string, token: string | undefined, pool: string | undefined, facts: EdgeFacts): Promise<DoctorCheck> {
  const url = connectUrl(edge, pool);
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { handshakeTimeout: TIMEOUT_MS, headers: connectHeaders(token) });
    let settled = false;
    const settle = (check: DoctorCheck) => {
      if (settled) return;
      settled = true;
      resolve(check);
    };
    socket.on("open", () => {
      facts.connect = { status: 101 };
      socket.close(1000, "rung-agent doctor");
      settle(pass("edge socket", `${url}: upgrade accepted (101)${token ? "" : " without a token"}`));
    });
    socket.on("unexpected-response", (_request, response) => {
      const status = response.statusCode ?? 0;
      void readRefusal(response).then((refusal) => {
        facts.connect = { status, refusal };
        socket.terminate();
        settle(fail("edge socket", `${url}: refused with ${status}: ${refusal}`, refusalFix(status, token, pool)));
      });
    });
    socket.on("error", (error) => {
      settle(
        fail(
          "edge socket",
          `${url}: ${networkReason(error)}`,
          "check --edge; a proxy that strips the WebSocket Upgrade header also ends here",
        ),
      );
    });
  });
}

function refusalFix(status: number, token: string | undefined, pool: string | undefined): string {
  if (status === 401 || status === 403) {
    if (!token) return 'the edge wants a join token: give it with --token, RUNG_TOKEN or "token" in the config file';
    const fix = `this token is not the edge's join token: copy RUNG_NODE_TOKEN from the edge (or a join token made with its admin API) into --token, RUNG_TOKEN or "token"`;
    return pool === undefined ? fix : `${fix}; or the token admits to another pool than ${pool}: leave --pool out to join the token's pool`;
  }
  if (status === 404) return "this URL is not a Rung edge's base URL (or a proxy rewrites the path)";
  return "the edge or a proxy in front of it refused the WebSocket upgrade; check its logs";
}

/** `connect ECONNREFUSED 127.0.0.1:9` rather than fetch's bare "fetch failed". */
function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = error.cause;
  if (cause instanceof Error) return cause.message;
  return error.message;
}
