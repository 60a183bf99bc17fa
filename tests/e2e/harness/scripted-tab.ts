import {
  type Chunk,
  DONATE_CONNECT_PATH,
  type Done,
  edgeMessageSchema,
  type Hello,
  type Job,
  type ModelInfo,
  PROTOCOL_VERSION,
  parseFrame,
} from "@rung/shared/protocol";
import WebSocket from "ws";

/**
 * A node that joins through the donate page's entrance, as a donated tab does
 * (public tier), announces a model a real agent serves, and answers every job
 * at once with the same scripted text: the truth when told the model's greedy
 * answer, a lie otherwise. It looks fastest, so the router favours it.
 */
export class ScriptedTab {
  /** Every job it was given, in order. */
  readonly jobs: Job[] = [];
  #closed = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly answer: string,
    /** Counted in `done`'s usage: the real model's count for the same text, so a tab's compute compares with the agent's. */
    private readonly completionTokens: number,
  ) {
    socket.on("message", (data: Buffer) => {
      const parsed = parseFrame(edgeMessageSchema, data.toString("utf8"));
      if (parsed.ok && parsed.value.type === "job") this.#answer(parsed.value);
    });
    socket.on("close", () => {
      this.#closed = true;
    });
    socket.on("error", () => {});
  }

  /** Joins `edge` as `name` serving `model`; resolves once the edge welcomed it. */
  static async join(edge: string, name: string, model: ModelInfo, answer: string, completionTokens: number): Promise<ScriptedTab> {
    const url = new URL(DONATE_CONNECT_PATH, edge);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const welcomed = new Promise<void>((resolve, reject) => {
      socket.on("message", (data: Buffer) => {
        const parsed = parseFrame(edgeMessageSchema, data.toString("utf8"));
        if (parsed.ok && parsed.value.type === "welcome") resolve();
        if (parsed.ok && parsed.value.type === "error") reject(new Error(`refused: ${parsed.value.error.message}`));
      });
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("closed before welcome")));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const tab = new ScriptedTab(socket, answer, completionTokens);
    const hello: Hello = {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      node: { name, kind: "browser", engine: "wllama", slots: 1, trust: "public" },
      models: [{ ...model, slots: 1, tokensPerSecond: 10_000 }],
    };
    socket.send(JSON.stringify(hello));
    await welcomed;
    return tab;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Jobs whose answers went (or would have gone) to clients: not the edge's canaries. */
  get clientJobs(): Job[] {
    return this.jobs.filter((job) => !job.jobId.endsWith(".canary"));
  }

  close(): void {
    this.socket.close(1000, "test over");
  }

  #answer(job: Job): void {
    this.jobs.push(job);
    // A few characters per chunk, as a model streams tokens; joined again they are the text exactly.
    const pieces = this.answer.match(/[\s\S]{1,4}/g) ?? [];
    pieces.forEach((text, seq) => {
      const chunk: Chunk = { type: "chunk", jobId: job.jobId, seq, text, confidence: 0.99 };
      this.socket.send(JSON.stringify(chunk));
    });
    const done: Done = {
      type: "done",
      jobId: job.jobId,
      chunks: pieces.length,
      finishReason: "stop",
      usage: { promptTokens: 8, completionTokens: this.completionTokens },
    };
    this.socket.send(JSON.stringify(done));
  }
}
