import { env, runInDurableObject, SELF } from "cloudflare:test";
import { type DashboardFrame, DONATE_CONNECT_PATH, dashboardFrameSchema, PING_FRAME, PONG_FRAME, parseFrame } from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DASHBOARD_TAG, DashboardFeed } from "../src/fabric/dashboard-feed.ts";
import type { FabricJob } from "../src/fabric/fabric-job.ts";
import { closeNodesAndResetPolicy, large, small, twoRungs } from "./ladder-fixtures.ts";
import { browserHelloOf, chat, TestNode } from "./test-node.ts";
import { wokenRegistry } from "./woken-registry.ts";

afterEach(closeNodesAndResetPolicy);

/** A dashboard in workerd: every frame the feed sends, parsed by the shared schema, and the raw text to search. */
class TestDashboard {
  readonly frames: DashboardFrame[] = [];
  readonly raw: string[] = [];
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const text = event.data as string;
      this.raw.push(text);
      if (text === PONG_FRAME) return;
      const parsed = parseFrame(dashboardFrameSchema, text);
      if (!parsed.ok) throw new Error(`feed sent a bad frame: ${parsed.error.message}`);
      this.frames.push(parsed.value);
    });
    socket.addEventListener("close", () => {
      this.closed = true;
    });
  }

  static async open(key?: string, query = ""): Promise<TestDashboard> {
    const response = await SELF.fetch(`http://edge/admin/dashboard/connect${query}`, { headers: { upgrade: "websocket" } });
    const socket = response.webSocket;
    if (!socket) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
    socket.accept();
    const dashboard = new TestDashboard(socket);
    if (key !== undefined) socket.send(JSON.stringify({ type: "auth", key }));
    return dashboard;
  }

  /** The first frame of this type (after `from` frames) that passes `test`, waiting for it. */
  next<T extends DashboardFrame["type"]>(
    type: T,
    test: (frame: Extract<DashboardFrame, { type: T }>) => boolean = () => true,
    timeout = 3_000,
  ): Promise<Extract<DashboardFrame, { type: T }>> {
    return vi.waitFor(
      () => {
        const frame = this.frames.find((f): f is Extract<DashboardFrame, { type: T }> => f.type === type && test(f as never));
        if (!frame) throw new Error(`no ${type} frame yet`);
        return frame;
      },
      { timeout, interval: 10 },
    );
  }

  close(): void {
    if (!this.closed) this.socket.close(1000, "test over");
  }
}

const nodeNames = (frame: Extract<DashboardFrame, { type: "snapshot" | "nodes" }>) =>
  frame.pool.catalog.flatMap((entry) => entry.nodes.map((node) => node.name));

describe("the dashboard feed", () => {
  it("is a WebSocket: a plain GET is told so", async () => {
    const response = await SELF.fetch("http://edge/admin/dashboard/connect");
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/WebSocket upgrade/);
  });

  it("refuses a wrong admin key in words, then closes", async () => {
    const dashboard = await TestDashboard.open("not-the-admin-key");
    const error = await dashboard.next("error");
    expect(error.error.message).toMatch(/Incorrect admin key/);
    await vi.waitFor(() => expect(dashboard.closed).toBe(true));
    expect(dashboard.frames.map((f) => f.type)).toEqual(["error"]);
  });

  it("refuses a pool no key or join token names in words, before any object of it wakes", async () => {
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY, "?pool=nobody-made-this");
    expect((await dashboard.next("error")).error).toMatchObject({
      code: "unknown_pool",
      message: expect.stringMatching(/No pool 'nobody-made-this'/),
    });
    await vi.waitFor(() => expect(dashboard.closed).toBe(true));
  });

  it("closes a socket that sends no key within a few seconds", async () => {
    const dashboard = await TestDashboard.open();
    const error = await dashboard.next("error", () => true, 7_000);
    expect(error.error.message).toMatch(/No admin key within 5 s/);
    await vi.waitFor(() => expect(dashboard.closed).toBe(true));
  });

  it("sends a snapshot, then nodes joining and leaving and each request's route, never its prompt or answer", async () => {
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    const snapshot = await dashboard.next("snapshot");
    expect(nodeNames(snapshot)).toEqual([]);

    const { little, big } = await twoRungs();
    await dashboard.next("nodes", (frame) => nodeNames(frame).includes("little") && nodeNames(frame).includes("big"));

    const prompt = "the secret prompt 7f3a";
    const pending = SELF.fetch("http://edge/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: prompt }] }),
    });
    little.answer(await little.next("job"), ["unsure", " words 91c2"], 0.1);
    big.answer(await big.next("job"), ["the secret", " answer 5e1d"]);
    const response = await pending;
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-request-id");

    const { route, traffic } = await dashboard.next("request");
    expect(route).toMatchObject({ id: requestId, requested: "auto", model: large.id, status: 200, completionTokens: 2 });
    expect(route.attempts.map((a) => [a.model, a.node, a.outcome])).toEqual([
      [small.id, "little", "escalated"],
      [large.id, "big", "answered"],
    ]);
    expect(route.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(traffic).toMatchObject({ model: large.id, answered: expect.any(Number), escalations: expect.any(Number) });
    expect(traffic.escalations).toBeGreaterThanOrEqual(1);

    little.close();
    await dashboard.next("nodes", (frame) => !nodeNames(frame).includes("little") && nodeNames(frame).includes("big"));

    // A second dashboard opening now gets the request in its snapshot.
    const later = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    const { routes, traffic: series } = await later.next("snapshot");
    expect(routes.at(-1)?.id).toBe(requestId);
    expect(series.some((row) => row.model === large.id && row.requests >= 1)).toBe(true);

    for (const text of [...dashboard.raw, ...later.raw]) {
      for (const secret of ["7f3a", "91c2", "5e1d", "secret"]) expect(text).not.toContain(secret);
    }
    dashboard.close();
    later.close();
  });

  it("shows each node's tier and engine, and a donated tab's verification standing", async () => {
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    await dashboard.next("snapshot");
    await twoRungs();
    const tab = await TestNode.connect("", DONATE_CONNECT_PATH);
    tab.send(browserHelloOf("tab-1", [small]));
    await tab.next("welcome");
    const { pool } = await dashboard.next("nodes", (frame) => nodeNames(frame).includes("tab-1"));
    const nodes = pool.catalog.flatMap((entry) => entry.nodes);
    expect(nodes.find((node) => node.name === "tab-1")).toMatchObject({
      trust: "public",
      engine: "wllama",
      verification: { standing: "probation", agreed: 0, differed: 0 },
    });
    expect(nodes.find((node) => node.name === "little")).toMatchObject({ trust: "private", engine: "echo" });
    expect(nodes.find((node) => node.name === "little")?.verification).toBeUndefined();
    dashboard.close();
  });

  it("shows a request refused before it ran, without attempts", async () => {
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    await dashboard.next("snapshot");
    const response = await chat({ model: "no-such-model" });
    expect(response.status).toBe(404);
    const { route, traffic } = await dashboard.next("request", (frame) => frame.route.requested === "no-such-model");
    expect(route).toMatchObject({ id: response.headers.get("x-request-id"), status: 404, attempts: [] });
    expect(traffic).toMatchObject({ model: "no-such-model", errors: expect.any(Number) });
    expect(traffic.errors).toBeGreaterThanOrEqual(1);
    dashboard.close();
  });

  it("answers a dashboard's keep-alive ping with the runtime's pong", async () => {
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    await dashboard.next("snapshot");
    dashboard.socket.send(PING_FRAME);
    await vi.waitFor(() => expect(dashboard.raw).toContain(PONG_FRAME));
    dashboard.close();
  });

  it("is not a node: a dashboard's frames and close leave the pool alone", async () => {
    const { little } = await twoRungs();
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    await dashboard.next("snapshot");
    dashboard.socket.send(JSON.stringify({ type: "hello" }));
    dashboard.close();
    const pending = chat({ model: small.id });
    little.answer(await little.next("job"), ["still here"]);
    expect((await pending).status).toBe(200);
  });

  it("after the object wakes, an open dashboard is still watching and still no node", async () => {
    await twoRungs();
    const dashboard = await TestDashboard.open(env.RUNG_ADMIN_KEY);
    await dashboard.next("snapshot");
    const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
    const names = await runInDurableObject(stub, (_instance, state) => {
      // What a woken object builds: the node registry from every socket, the feed from the tagged ones.
      const nodes = wokenRegistry(state)
        .views()
        .map((view) => view.name);
      const feed = new DashboardFeed(
        state,
        () => false,
        () => ({ catalog: [], queued: 0, inFlight: 0 }),
      );
      const job = { requestId: "req_after_wake", model: "auto" } as FabricJob;
      feed.requestEnded(job, { status: 200, model: small.id, totalMs: 5, attempts: [] });
      return { nodes: nodes.sort(), dashboards: state.getWebSockets(DASHBOARD_TAG).length };
    });
    expect(names).toEqual({ nodes: ["big", "little"], dashboards: 1 });
    const { route } = await dashboard.next("request", (frame) => frame.route.id === "req_after_wake");
    expect(route).toMatchObject({ requested: "auto", model: small.id, status: 200 });
    dashboard.close();
  });
});
