// First: configures zod before any schema module is evaluated (the page's CSP has no 'unsafe-eval').
import "../page/zod-without-eval.ts";
import {
  type DashboardFrame,
  type DashboardPool,
  dashboardFrameSchema,
  PING_FRAME,
  PONG_FRAME,
  parseFrame,
  poolNameSchema,
} from "@rung/shared/protocol";
import { byId } from "./dom.ts";
import { KeysView } from "./keys-view.ts";
import { renderNodes } from "./nodes-view.ts";
import { Playground } from "./playground.ts";
import { RequestsView } from "./requests-view.ts";
import { Traffic } from "./traffic.ts";
import { TrafficCharts } from "./traffic-charts.ts";

/** After a dropped feed, try again this long after, doubling up to the cap. */
const RETRY_MS = 1_000;
const RETRY_CAP_MS = 30_000;
/**
 * A quiet pool sends nothing for minutes, and proxies close sockets that stay
 * silent: a ping this often keeps it open, answered by the runtime's
 * auto-response without waking the pool's object.
 */
const PING_MS = 30_000;

const traffic = new Traffic();
const requests = new RequestsView();
const charts = new TrafficCharts();
const playground = new Playground();
const keys = new KeysView();
let socket: WebSocket | undefined;
let retry = RETRY_MS;

const keyInput = byId<HTMLInputElement>("admin-key");
const poolInput = byId<HTMLInputElement>("pool");

/** `#key=…&pool=…`: the fragment never reaches the server, so a bookmarked dashboard does not leak its key into logs. */
const fragment = new URLSearchParams(location.hash.slice(1));
keyInput.value = fragment.get("key") ?? "";
poolInput.value = fragment.get("pool") ?? new URLSearchParams(location.search).get("pool") ?? "main";

byId("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  connect();
});
if (keyInput.value) connect();
// The "now" of the charts moves on even when no request comes.
setInterval(redrawTraffic, 30_000);

function connect(): void {
  socket?.close(1000, "reconnecting");
  const pool = poolInput.value.trim() || "main";
  if (!poolNameSchema.safeParse(pool).success) return refused(`"${pool}" is not a pool name (lowercase letters, digits and dashes).`);
  const key = keyInput.value;
  const url = new URL(`/admin/dashboard/connect?pool=${pool}`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const opened = new WebSocket(url);
  socket = opened;
  status(`Connecting to ${pool}…`);
  opened.addEventListener("open", () => opened.send(JSON.stringify({ type: "auth", key })));
  const pinging = setInterval(() => opened.readyState === WebSocket.OPEN && opened.send(PING_FRAME), PING_MS);
  opened.addEventListener("message", (event) => {
    if (event.data === PONG_FRAME) return;
    const parsed = parseFrame(dashboardFrameSchema, event.data as string);
    if (!parsed.ok) return console.warn(`the feed sent a frame this page does not read: ${parsed.error.message}`);
    onFrame(parsed.value, pool, key);
  });
  opened.addEventListener("close", () => {
    clearInterval(pinging);
    if (socket !== opened || !byId("refusal").hidden) return;
    status(`Disconnected; trying again in ${Math.round(retry / 1_000)} s`, "bad");
    setTimeout(() => socket === opened && connect(), retry);
    retry = Math.min(retry * 2, RETRY_CAP_MS);
  });
}

function onFrame(frame: DashboardFrame, pool: string, key: string): void {
  switch (frame.type) {
    case "error":
      return refused(frame.error.message);
    case "snapshot":
      retry = RETRY_MS;
      byId("refusal").hidden = true;
      status(`Live · pool ${pool}`, "ok");
      keys.start(key);
      showPool(frame.pool);
      traffic.put(frame.traffic);
      requests.add(frame.routes);
      return redrawTraffic();
    case "nodes":
      return showPool(frame.pool);
    case "request":
      traffic.put([frame.traffic]);
      requests.add([frame.route]);
      return redrawTraffic();
  }
}

function showPool(pool: DashboardPool): void {
  renderNodes(pool);
  playground.models(pool);
}

function redrawTraffic(): void {
  const now = Math.floor(Date.now() / 60_000);
  charts.render(traffic.series(now), traffic.summary(now));
}

function refused(message: string): void {
  const refusal = byId("refusal");
  refusal.textContent = message;
  refusal.hidden = false;
  status("Not connected", "bad");
}

function status(text: string, tone: "ok" | "bad" | "" = ""): void {
  const line = byId("connection");
  line.textContent = text;
  line.className = `connection ${tone}`;
}
