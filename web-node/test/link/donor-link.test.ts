import { setTimeout as sleep } from "node:timers/promises";
import {
  EchoEngine,
  EngineError,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
} from "@rung/shared/node";
import {
  type Chunk,
  type Done,
  type EdgeMessage,
  type Heartbeat,
  type Hello,
  type Job,
  type JobError,
  type ModelInfo,
  type NodeMessage,
  nodeMessageSchema,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
  type WireError,
  WireErrorCode,
} from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket as NodeWebSocket, WebSocketServer } from "ws";
import { DonorLink, type DonorLinkOptions, type LinkState } from "../../src/link/donor-link.ts";

/**
 * DonorLink against a real `ws` server on 127.0.0.1 playing the edge, as the
 * native agent's EdgeLink is tested: real sockets, real partysocket reconnects
 * (500 ms minimum plus up to 1 s of random wait), so waits are bounded at 5 s.
 */

const MODEL: ModelInfo = { id: "echo-1", parameters: 1_000, quantization: "F32", contextLength: 512, tokensPerSecond: 100, slots: 1 };
const IDENTITY = { name: "tab-test", kind: "browser", trust: "public" } as const;
const WAIT_MS = 5_000;

const isHello = (f: NodeMessage): f is Hello => f.type === "hello";
const isHeartbeat = (f: NodeMessage): f is Heartbeat => f.type === "heartbeat";
const isChunk = (f: NodeMessage): f is Chunk => f.type === "chunk";
const isDoneOf =
  (jobId: string) =>
  (f: NodeMessage): f is Done =>
    f.type === "done" && f.jobId === jobId;
const isJobErrorOf =
  (jobId: string) =>
  (f: NodeMessage): f is JobError =>
    f.type === "job-error" && f.jobId === jobId;
const isDraining = (f: NodeMessage): f is Extract<NodeMessage, { type: "draining" }> => f.type === "draining";
const mentions = (jobId: string) => (f: NodeMessage) => "jobId" in f && f.jobId === jobId;

const job = (jobId: string, content: string): Job => ({
  type: "job",
  jobId,
  model: MODEL.id,
  input: { kind: "chat", messages: [{ role: "user", content }] },
  sampling: { temperature: 0, topP: 1, stop: [] },
});

/** Callbacks re-checked whenever a frame, a connection or a link state arrives. */
class Wakeups {
  readonly #waiters = new Set<() => void>();

  wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once `ready()` holds; fails after `timeoutMs` naming `what`. */
  until(ready: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }
}

/** One tab socket as the edge sees it. */
interface Connection {
  socket: NodeWebSocket;
  /** Every frame the tab sent, parsed with the shared schema; pings are answered, not kept. */
  frames: NodeMessage[];
  /** Frames that failed the shared schema; a correct tab sends none. */
  badFrames: string[];
  pings: number;
  send(frame: EdgeMessage): void;
  /** The first frame, already received or not, that matches. */
  waitFor<T extends NodeMessage>(predicate: (frame: NodeMessage) => frame is T, timeoutMs?: number): Promise<T>;
  /** The close code once the socket has closed, whichever side closed it. */
  closeCode: number | undefined;
  /** Resolves with the close code once the socket has closed. */
  closed(timeoutMs?: number): Promise<number>;
}

/** The edge's side of the donate socket, with the shared schemas. */
class FakeEdge {
  readonly connections: Connection[] = [];
  readonly #wss: WebSocketServer;
  readonly #wakeups: Wakeups;

  private constructor(wss: WebSocketServer, wakeups: Wakeups) {
    this.#wss = wss;
    this.#wakeups = wakeups;
    wss.on("connection", (socket) => this.#accept(socket));
  }

  static async start(wakeups: Wakeups): Promise<FakeEdge> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve, reject) => wss.once("listening", resolve).once("error", reject));
    return new FakeEdge(wss, wakeups);
  }

  get url(): string {
    const { port } = this.#wss.address() as { port: number };
    return `ws://127.0.0.1:${port}/v1/donate/connect`;
  }

  /** Connection number `index` (0-based) once the tab has opened it. */
  async connection(index: number, timeoutMs = WAIT_MS): Promise<Connection> {
    await this.#wakeups.until(() => this.connections.length > index, `connection ${index}`, timeoutMs);
    return this.connections[index]!;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: NodeWebSocket): void {
    const wakeups = this.#wakeups;
    const connection: Connection = {
      socket,
      frames: [],
      badFrames: [],
      pings: 0,
      send: (frame) => socket.send(JSON.stringify(frame)),
      async waitFor(predicate, timeoutMs = WAIT_MS) {
        await wakeups.until(() => this.frames.some(predicate), `a frame ${predicate.name}`.trim(), timeoutMs);
        return this.frames.find(predicate) as never;
      },
      closeCode: undefined,
      async closed(timeoutMs = WAIT_MS) {
        await wakeups.until(() => this.closeCode !== undefined, "the socket to close", timeoutMs);
        return this.closeCode!;
      },
    };
    socket.once("close", (code) => {
      connection.closeCode = code;
      wakeups.wake();
    });
    socket.on("message", (data, isBinary) => {
      const text = data.toString();
      // The real edge answers pings by hibernation auto-response; so does this one.
      if (!isBinary && text === PING_FRAME) {
        connection.pings++;
        socket.send(PONG_FRAME);
      } else {
        const parsed = parseFrame(nodeMessageSchema, text);
        if (parsed.ok) connection.frames.push(parsed.value);
        else connection.badFrames.push(`${parsed.error.message}: ${text}`);
      }
      wakeups.wake();
    });
    this.connections.push(connection);
    wakeups.wake();
  }
}

/** The message that makes HoldingEngine hold its job. */
const HOLD = "hold";

/**
 * Echoes like EchoEngine, except a job whose message is `hold`: it sends one
 * piece, then holds the job until it is aborted, like a model evaluating a
 * long prompt; only an abort (a drop, a cancel, a drain) ends it.
 */
class HoldingEngine extends EchoEngine {
  aborted = 0;

  constructor() {
    super({ models: [MODEL] });
  }

  override generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    if (request.input.kind !== "chat" || request.input.messages.at(-1)?.content !== HOLD) return super.generate(request, options);
    options.onPiece({ text: "held ", confidence: 0.5 });
    return new Promise((_resolve, reject) => {
      const onAbort = () => {
        this.aborted++;
        reject(new EngineError("cancelled", "aborted", false));
      };
      options.signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

async function setup(options: { engine?: InferenceEngine; link?: Partial<DonorLinkOptions> } = {}) {
  const wakeups = new Wakeups();
  const edge = await FakeEdge.start(wakeups);
  const states: LinkState[] = [];
  const link = new DonorLink({
    url: edge.url,
    engine: options.engine ?? new EchoEngine({ models: [MODEL] }),
    identity: IDENTITY,
    onState: (state) => {
      states.push(state);
      wakeups.wake();
    },
    // `ws` implements the WebSocket interface partysocket uses; its types differ from the DOM's (e.g. binaryType "nodebuffer").
    WebSocket: NodeWebSocket as unknown as typeof globalThis.WebSocket,
    ...options.link,
  });
  // Stop before the edge does, so the link does not reconnect to a closing server.
  cleanups.push(
    () => edge.stop(),
    () => link.close(0),
  );
  const waitForState = <S extends LinkState["state"]>(state: S, from = 0): Promise<Extract<LinkState, { state: S }>> =>
    wakeups
      .until(() => states.slice(from).some((s) => s.state === state), `state ${state}`)
      .then(() => states.slice(from).find((s) => s.state === state) as Extract<LinkState, { state: S }>);
  /** Waits for the tab's hello on connection `index` and welcomes it. */
  const join = async (index: number, nodeId: string) => {
    const conn = await edge.connection(index);
    await conn.waitFor(isHello);
    const from = states.length;
    conn.send({ type: "welcome", nodeId, protocol: "1.3" });
    await waitForState("joined", from);
    return conn;
  };
  return { edge, link, states, waitForState, join };
}

describe("DonorLink", { timeout: 15_000 }, () => {
  it("says hello as a public browser node and reports joined once welcomed", async () => {
    const { edge, states, waitForState } = await setup({ link: { pingIntervalMs: 50, heartbeatIntervalMs: 50 } });
    const conn = await edge.connection(0);
    const hello = await conn.waitFor(isHello);
    expect(hello).toMatchObject({
      protocol: PROTOCOL_VERSION,
      node: { name: "tab-test", kind: "browser", trust: "public", engine: "echo", slots: 1 },
      models: [{ id: MODEL.id }],
    });
    expect(states).toEqual([{ state: "connecting", attempt: 0 }]);

    conn.send({ type: "welcome", nodeId: "node_tab1", protocol: "1.3" });
    expect(await waitForState("joined")).toEqual({ state: "joined", nodeId: "node_tab1" });
    // A 1.3 edge takes heartbeats; pings keep the socket alive and are answered without a frame.
    expect(await conn.waitFor(isHeartbeat)).toMatchObject({ activeJobs: 0 });
    await vi.waitFor(() => expect(conn.pings).toBeGreaterThan(0), { timeout: WAIT_MS });
    expect(conn.badFrames).toEqual([]);
  });

  it("answers a job with numbered chunks and done", async () => {
    const { join } = await setup();
    const conn = await join(0, "node_tab1");

    conn.send(job("j1", "one two three"));
    const done = await conn.waitFor(isDoneOf("j1"));
    const chunks = conn.frames.filter(isChunk);
    expect(chunks.map((c) => [c.jobId, c.seq, c.text])).toEqual([
      ["j1", 0, "one "],
      ["j1", 1, "two "],
      ["j1", 2, "three"],
    ]);
    expect(done).toMatchObject({ chunks: 3, finishReason: "stop", usage: { completionTokens: 3 } });
    expect(conn.badFrames).toEqual([]);
  });

  it("aborts the job in hand when the edge drops it, reconnects, and sends nothing of that job on the new socket", async () => {
    const engine = new HoldingEngine();
    const { link, states, waitForState, join } = await setup({ engine });
    const first = await join(0, "node_tab1");
    first.send(job("j-held", HOLD));
    await first.waitFor(isChunk);
    expect(link.session.activeJobs).toBe(1);

    const from = states.length;
    first.socket.terminate();
    // partysocket has already scheduled attempt 1 when it reports the close.
    expect(await waitForState("connecting", from)).toEqual({ state: "connecting", attempt: 1 });
    await vi.waitFor(() => expect(link.session.activeJobs).toBe(0), { timeout: WAIT_MS });
    expect(engine.aborted).toBe(1);

    const second = await join(1, "node_tab2");
    expect(second.frames.filter(isHello)).toHaveLength(1);
    expect(states.slice(from).map((s) => s.state)).toEqual(["connecting", "connecting", "joined"]);
    expect(states.slice(from).filter((s) => s.state === "connecting")).toEqual([
      { state: "connecting", attempt: 1 },
      { state: "connecting", attempt: 1 },
    ]);

    // The edge has failed j-held over to another node; its job-error, sent while disconnected, was dropped, not queued.
    second.send(job("j-next", "fresh job"));
    await second.waitFor(isDoneOf("j-next"));
    expect(second.frames.filter(mentions("j-held"))).toEqual([]);
    expect(second.badFrames).toEqual([]);
  });

  it("ends on a fatal error from the edge and does not reconnect", async () => {
    const engine = new HoldingEngine();
    const { edge, link, states, waitForState, join } = await setup({ engine });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-refused", HOLD));
    await conn.waitFor(isChunk);
    // The aborted job's job-error goes to a closed socket; partysocket warns about that.
    vi.spyOn(console, "warn").mockImplementation(() => {});

    const error: WireError = { code: "trust_mismatch", message: "this entrance only takes public nodes", retryable: false };
    // Unlike the real edge, this one leaves the socket open: the tab must close it itself.
    conn.send({ type: "error", fatal: true, error });
    expect(await waitForState("refused")).toEqual({ state: "refused", error });
    expect(await conn.closed()).toBe(1000);
    await vi.waitFor(() => expect(link.session.activeJobs).toBe(0), { timeout: WAIT_MS });

    // A reconnect would come within 0.5 s plus up to 1 s of random wait.
    await sleep(1_500);
    expect(edge.connections).toHaveLength(1);
    expect(states.at(-1)).toEqual({ state: "refused", error });
  });

  it("close() lets the job in hand finish, then closes the socket", async () => {
    const engine = new EchoEngine({ models: [MODEL], pieceDelayMs: 30 });
    const { edge, link, states, join } = await setup({ engine });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-finish", "a b c d e f"));
    await conn.waitFor(isChunk);

    await link.close(WAIT_MS);
    expect(states.at(-1)).toEqual({ state: "closed" });
    expect(await conn.closed()).toBe(1000);
    const types = conn.frames.filter((f) => f.type !== "heartbeat").map((f) => f.type);
    expect(types.indexOf("draining")).toBeLessThan(types.indexOf("done"));
    expect(types.at(-1)).toBe("done");
    expect(conn.frames.find(isDoneOf("j-finish"))).toMatchObject({ chunks: 6, finishReason: "stop" });
    expect(states.filter((s) => s.state === "connecting")).toHaveLength(1);
    expect(edge.connections).toHaveLength(1);
  });

  it("close() hands back a job that outlives the deadline as a retryable draining error", async () => {
    const { link, states, join } = await setup({ engine: new HoldingEngine() });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-stuck", HOLD));
    await conn.waitFor(isChunk);

    await link.close(100);
    expect(states.at(-1)).toEqual({ state: "closed" });
    await conn.closed();
    await conn.waitFor(isDraining, 0);
    const handedBack = await conn.waitFor(isJobErrorOf("j-stuck"), 0);
    expect(handedBack.error).toMatchObject({ code: WireErrorCode.draining, retryable: true });
    expect(conn.frames.indexOf(handedBack)).toBeGreaterThan(conn.frames.findIndex(isDraining));
    expect(conn.frames.some(isDoneOf("j-stuck"))).toBe(false);
  });

  it("ignores frames it cannot read and keeps serving", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { states, join } = await setup();
    const conn = await join(0, "node_tab1");
    const joinedAt = states.length;

    conn.socket.send("not json");
    conn.socket.send(JSON.stringify({ type: "job", jobId: "" }));
    conn.socket.send(Buffer.from([1, 2, 3]));
    conn.send(job("j-after", "still here"));
    await conn.waitFor(isDoneOf("j-after"));

    expect(warn.mock.calls.filter(([line]) => String(line).startsWith("ignoring a frame from the edge"))).toHaveLength(2);
    expect(states.slice(joinedAt)).toEqual([]);
    expect(conn.frames.filter((f) => f.type === "job-error")).toEqual([]);
  });
});
