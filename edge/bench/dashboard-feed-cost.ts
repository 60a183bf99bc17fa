/**
 * What a request's end costs the pool's object in the dashboard feed
 * (edge/src/fabric/dashboard-feed.ts), with no dashboard open and with some:
 * the feed's own JavaScript in Node's V8 (the engine workerd runs), its
 * sockets and storage stood in by counting stubs, so the figure is the
 * feed's work and not the runtime's (workerd's clock does not move while
 * JavaScript runs, so it cannot time this itself). Usage:
 * npx tsx edge/bench/dashboard-feed-cost.ts
 */
import type { RequestRoute } from "@rung/shared/protocol";
import { DashboardFeed } from "../../edge/src/fabric/dashboard-feed.ts";
import type { FabricJob } from "../../edge/src/fabric/fabric-job.ts";
import type { RunSummary } from "../../edge/src/fabric/job-run-host.ts";

const REQUESTS = 200_000;

/** A dashboard's socket: counts what it was sent. */
function viewer() {
  let bytes = 0;
  let frames = 0;
  const attachment = { dashboard: true, openedAt: 0, authed: true };
  return {
    socket: {
      send: (text: string) => {
        bytes += text.length;
        frames++;
      },
      deserializeAttachment: () => attachment,
    },
    sent: () => ({ bytes, frames }),
  };
}

function feedWith(viewers: ReturnType<typeof viewer>[]) {
  let writes = 0;
  const storage = { kv: { get: () => undefined, put: () => writes++ } };
  const ctx = { storage, getWebSockets: () => viewers.map((v) => v.socket) } as unknown as DurableObjectState;
  const pool = { catalog: [], queued: 0, inFlight: 0 };
  return {
    feed: new DashboardFeed(
      ctx,
      () => true,
      () => pool,
    ),
    writes: () => writes,
  };
}

const attempts: RequestRoute["attempts"] = [
  {
    model: "rung-small",
    node: "gpu-box-1",
    tier: "private",
    outcome: "escalated",
    reason: "mean confidence 0.21 < 0.4",
    ms: 40,
    confidence: { mean: 0.21, min: 0.05 },
  },
  {
    model: "rung-large",
    node: "gpu-box-2",
    tier: "private",
    outcome: "answered",
    ms: 90,
    firstTokenMs: 20,
    confidence: { mean: 0.9, min: 0.6 },
  },
];
const job = { requestId: "req_1", model: "auto" } as FabricJob;
const summary: RunSummary = {
  status: 200,
  model: "rung-large",
  usage: { promptTokens: 5, completionTokens: 16 },
  totalMs: 130,
  firstTokenMs: 60,
  attempts,
};

function run(label: string, viewers: ReturnType<typeof viewer>[]): void {
  const { feed, writes } = feedWith(viewers);
  for (let i = 0; i < 10_000; i++) feed.requestEnded(job, summary);
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) feed.requestEnded(job, summary);
  const us = ((performance.now() - started) * 1000) / REQUESTS;
  const sent = viewers[0]?.sent();
  const perFrame = sent && sent.frames > 0 ? `, ${Math.round(sent.bytes / sent.frames)} bytes per request frame` : "";
  console.log(`${label}: ${us.toFixed(2)} µs per request's end${perFrame}; storage writes during the run: ${writes()}`);
}

run("no dashboard open", []);
run("one dashboard open", [viewer()]);
run("ten dashboards open", Array.from({ length: 10 }, viewer));
