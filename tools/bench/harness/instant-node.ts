import {
  BATCHED_CHUNKS_SINCE_MINOR,
  type ChunkToken,
  chunkFrame,
  hasMinorVersion,
  type Job,
  type ModelInfo,
  PROTOCOL_VERSION,
  type Welcome,
} from "@rung/shared/protocol";
import WebSocket from "ws";

const TOKEN: ChunkToken = { text: "tok ", confidence: 0.99 };

export interface InstantNodeOptions {
  /** The model it announces. */
  model: string;
  /** Jobs at once, announced; it answers every job at once whatever the count. Default 256. */
  slots?: number;
  /** Tokens per chunk frame when the edge speaks 1.4 or later; one a frame before. Default 1. */
  tokensPerFrame?: number;
  /** Called as each job arrives, before it is answered: when a request reached the node. */
  onJob?: (job: Job) => void;
}

/**
 * A node in this process that answers every job at once: `maxTokens` tokens (8 without),
 * one frame per `tokensPerFrame` tokens, then `done`. No model, no engine, no timers: the
 * relay's figures measure the edge, not the source. Speaks to an edge or to a FrameSink.
 */
export class InstantNode {
  /** Tokens per frame it actually sends, after the edge's welcome. */
  tokensPerFrame = 1;
  readonly #socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  static async join(edgeUrl: string, options: InstantNodeOptions): Promise<InstantNode> {
    // Without permessage-deflate, as rung-agent connects.
    const socket = new WebSocket(`${edgeUrl.replace(/^http/, "ws")}/v1/nodes/connect`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const node = new InstantNode(socket);
    const slots = options.slots ?? 256;
    const model: ModelInfo = { id: options.model, parameters: 1, quantization: "F32", contextLength: 1 << 20, tokensPerSecond: 1e5, slots };
    const welcome = new Promise<Welcome>((resolve) => socket.once("message", (data) => resolve(JSON.parse(String(data)) as Welcome)));
    socket.send(
      JSON.stringify({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        node: { name: `instant-${options.model}`, kind: "native", engine: "echo", slots },
        models: [model],
      }),
    );
    if (hasMinorVersion((await welcome).protocol, BATCHED_CHUNKS_SINCE_MINOR)) node.tokensPerFrame = options.tokensPerFrame ?? 1;
    socket.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string };
      if (frame.type !== "job") return;
      options.onJob?.(frame as Job);
      node.#answer(frame as Job);
    });
    return node;
  }

  close(): void {
    this.#socket.terminate();
  }

  #answer(job: Job): void {
    const tokens = job.sampling.maxTokens ?? 8;
    let seq = 0;
    for (let sent = 0; sent < tokens; sent += this.tokensPerFrame, seq++) {
      const frame = new Array(Math.min(this.tokensPerFrame, tokens - sent)).fill(TOKEN) as [ChunkToken, ...ChunkToken[]];
      this.#socket.send(JSON.stringify(chunkFrame(job.jobId, seq, frame)));
    }
    const usage = { promptTokens: 1, completionTokens: tokens };
    this.#socket.send(JSON.stringify({ type: "done", jobId: job.jobId, chunks: seq, finishReason: "length", usage }));
  }
}
