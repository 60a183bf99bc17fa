import WebSocket from "ws";

/** The parts of a V8 CPU profile (DevTools protocol `Profiler.Profile`) a summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples: number[];
  /** Microseconds from the sample before to each one. */
  timeDeltas: number[];
  /** Microseconds, on the profiler's clock. */
  startTime: number;
  endTime: number;
}

/**
 * Records CPU profiles of a workerd isolate through its V8 inspector (Miniflare's
 * `inspectorPort`): the DevTools protocol over a WebSocket, as Chrome DevTools speaks it.
 */
export class CpuProfiler {
  #nextId = 0;
  readonly #replies = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (message.id !== undefined) this.#replies.get(message.id)?.(message.result);
    });
  }

  /** Attaches to the isolate of the user's Worker (Miniflare's own service workers have targets too). */
  static async attach(inspectorPort: number): Promise<CpuProfiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
      title: string;
      webSocketDebuggerUrl: string;
    }[];
    const target = targets.find((t) => t.title.includes("core:user:"));
    if (!target) throw new Error(`no inspector target for the Worker among: ${targets.map((t) => t.title).join(", ")}`);
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const profiler = new CpuProfiler(socket);
    await profiler.#call("Profiler.enable");
    return profiler;
  }

  /** Starts sampling every `intervalUs` microseconds. */
  async start(intervalUs = 100): Promise<void> {
    await this.#call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.#call("Profiler.start");
  }

  async stop(): Promise<CpuProfile> {
    const { profile } = (await this.#call("Profiler.stop")) as { profile: CpuProfile };
    return profile;
  }

  close(): void {
    this.socket.close();
  }

  #call(method: string, params: object = {}): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#replies.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }
}
