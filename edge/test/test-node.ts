import { env, SELF } from "cloudflare:test";
import {
  type EdgeMessage,
  edgeMessageSchema,
  type Hello,
  type Job,
  type ModelInfo,
  type NodeMessage,
  PROTOCOL_VERSION,
  parseFrame,
} from "@rung/shared/protocol";
import { expect, vi } from "vitest";

/** A model as a test node announces it; sizes decide the ladder's order. */
export function model(id: string, parameters: number, contextLength = 2048, slots = 8): ModelInfo {
  return { id, parameters, quantization: "F32", contextLength, tokensPerSecond: 100, slots };
}

/**
 * A WebSocket client inside workerd playing a node: it speaks the shared
 * protocol by hand so tests decide exactly what the edge receives.
 */
export class TestNode {
  static readonly #open = new Set<TestNode>();
  readonly received: EdgeMessage[] = [];
  readonly #waiters = new Set<() => void>();
  closed = false;
  /** The id the edge gave this node in `welcome`, once it did. */
  nodeId: string | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const parsed = parseFrame(edgeMessageSchema, event.data as string);
      if (!parsed.ok) throw new Error(`edge sent a bad frame: ${parsed.error.message}`);
      this.received.push(parsed.value);
      if (parsed.value.type === "welcome") this.nodeId = parsed.value.nodeId;
      for (const wake of this.#waiters) wake();
    });
    socket.addEventListener("close", () => {
      this.closed = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /** Through the join-token entrance by default; pass `DONATE_CONNECT_PATH` to come in as a donated tab. */
  static async connect(query = "", path = "/v1/nodes/connect"): Promise<TestNode> {
    return TestNode.from(await SELF.fetch(`http://edge${path}${query}`, { headers: { upgrade: "websocket" } }));
  }

  /** A node on the socket of an upgrade response, however the test made the request. */
  static async from(response: Response): Promise<TestNode> {
    const socket = response.webSocket;
    if (!socket) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
    socket.accept();
    const node = new TestNode(socket);
    TestNode.#open.add(node);
    return node;
  }

  /** Connect and join with the given models; resolves once the edge welcomed the node. */
  static async join(name: string, models: ModelInfo[], slots = 2): Promise<TestNode> {
    const node = await TestNode.connect();
    node.send(helloOf(name, models, slots));
    await node.next("welcome");
    return node;
  }

  send(frame: NodeMessage | Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(data: string): void {
    this.socket.send(data);
  }

  /** The next frame of a type not yet taken by an earlier call. */
  async next<T extends EdgeMessage["type"]>(type: T, timeoutMs = 3_000): Promise<Extract<EdgeMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex((m) => m.type === type);
      if (index >= 0) return this.received.splice(index, 1)[0] as Extract<EdgeMessage, { type: T }>;
      if (this.closed) throw new Error(`socket closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#waiters.clear();
    }
  }

  /** Answer a job with the given pieces, numbered from 0, then `done`. */
  answer(job: Job, pieces: string[], confidence = 0.99): void {
    for (const [seq, text] of pieces.entries()) this.send({ type: "chunk", jobId: job.jobId, seq, text, confidence });
    this.send({
      type: "done",
      jobId: job.jobId,
      chunks: pieces.length,
      finishReason: "stop",
      usage: { promptTokens: 5, completionTokens: pieces.length },
    });
  }

  close(): void {
    TestNode.#open.delete(this);
    if (!this.closed) this.socket.close(1000, "test over");
  }

  /** Disconnect every node a test made, so the next test starts with an empty pool. */
  static async closeAll(): Promise<void> {
    const leaving = [...TestNode.#open].flatMap((node) => {
      node.close();
      return node.nodeId ? [node.nodeId] : [];
    });
    if (leaving.length === 0) return;
    // The Durable Object handles the closes on its own turn: wait until the router no longer sees these nodes.
    await vi.waitFor(
      async () => {
        const present = (await edgeStatus()).catalog.flatMap((m) => m.nodes.map((n) => n.id));
        expect(present.filter((id) => leaving.includes(id))).toEqual([]);
      },
      { timeout: 3_000, interval: 5 },
    );
  }
}

export function helloOf(name: string, models: ModelInfo[], slots = 2, protocol = PROTOCOL_VERSION): Hello {
  return { type: "hello", protocol, node: { name, kind: "native", engine: "echo", slots }, models };
}

/** A donated tab's hello, as the donate page sends it: a browser in the public tier unless told otherwise. */
export function browserHelloOf(name: string, models: ModelInfo[], trust: NonNullable<Hello["node"]["trust"]> = "public"): Hello {
  return { type: "hello", protocol: PROTOCOL_VERSION, node: { name, kind: "browser", engine: "wllama", slots: 1, trust }, models };
}

/** GET /v1/status: the pool as the router sees it (the test edge has no API keys). */
export async function edgeStatus(): Promise<EdgeStatus> {
  const response = await SELF.fetch("http://edge/v1/status");
  if (!response.ok) throw new Error(`GET /v1/status answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as EdgeStatus;
}

export interface EdgeStatus {
  catalog: {
    id: string;
    nodes: { id: string; name: string; draining: boolean; breaker: string; active: number; tokensPerSecond: number }[];
  }[];
  queued: number;
  inFlight: number;
}

/** The catalog entry's view of the node of this name serving a model, if the router sees one. */
export function nodeInStatus(status: EdgeStatus, modelId: string, name: string) {
  return status.catalog.find((m) => m.id === modelId)?.nodes.find((n) => n.name === name);
}

export function chat(body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return SELF.fetch("http://edge/v1/chat/completions", {
    method: "POST",
    signal,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "Say hi" }], ...body }),
  });
}

/** A response's Content-Security-Policy, each directive's sources by its name. */
export function cspOf(response: Response): Map<string | undefined, string[]> {
  return new Map(
    response.headers
      .get("content-security-policy")!
      .split("; ")
      .map((d) => [d.split(" ")[0], d.split(" ").slice(1)]),
  );
}

/** Parse a server-sent-events body into its `data:` payloads. */
export async function sseData(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}

/** Replaces the pool's policy through the admin route, as an operator would; `{}` restores the defaults. */
export async function putPolicy(policy: Record<string, unknown>): Promise<Response> {
  return SELF.fetch("http://edge/admin/policy", {
    method: "PUT",
    headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(policy),
  });
}

/** A key made through the admin API, as an operator makes one: its secret, as an `authorization` header. */
export async function keyHeaders(body: Record<string, unknown>): Promise<Record<string, string>> {
  const response = await SELF.fetch("http://edge/admin/keys", {
    method: "POST",
    headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return { authorization: `Bearer ${((await response.json()) as { key: string }).key}` };
}

/** Back to the policy from the configuration, so one test's policy never leaks into the next. */
export async function resetPolicy(): Promise<void> {
  await SELF.fetch("http://edge/admin/policy", { method: "DELETE", headers: { authorization: `Bearer ${env.RUNG_ADMIN_KEY}` } });
}
