// The floor: the least Worker + Durable Object that relays a chat completion to a node over a
// hibernatable WebSocket and back, in Rung's wire protocol so the same node serves both. No
// validation, routing, queue, retries or escalation: what Rung's edge costs above this, it
// costs itself; this is the platform's limit. Nodes are kept per model only so that idle nodes
// announcing other models never get a job.
import { DurableObject } from "cloudflare:workers";
import { type Chunk, type Done, type Job, type NodeMessage, PING_FRAME, PONG_FRAME, PROTOCOL_VERSION } from "@rung/shared/protocol";

interface Env {
  FLOOR: DurableObjectNamespace<Floor>;
}

interface ChatBody {
  model: string;
  messages: Extract<Job["input"], { kind: "chat" }>["messages"];
  stream?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
}

const encoder = new TextEncoder();
const usageOf = ({ usage }: Done) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});

export default {
  fetch: (request: Request, env: Env) => env.FLOOR.get(env.FLOOR.idFromName("main")).fetch(request),
};

export class Floor extends DurableObject<Env> {
  readonly #nodes = new Map<string, WebSocket[]>();
  #turn = 0;
  /** Each job's frames go to its answer: SSE events as they come, or one JSON body at `done`. */
  readonly #answers = new Map<string, (frame: Chunk | Done) => void>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    // After hibernation the sockets survive and the map does not: rebuild it from the attachments.
    for (const socket of ctx.getWebSockets()) this.#join(socket, socket.deserializeAttachment() as string[]);
  }

  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === "/v1/nodes/connect") {
      const { 0: client, 1: server } = new WebSocketPair();
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    const body = await request.json<ChatBody>();
    const nodes = this.#nodes.get(body.model) ?? [];
    if (nodes.length === 0) return new Response("no node serves this model", { status: 503 });
    const jobId = crypto.randomUUID();
    const sampling = {
      maxTokens: body.max_tokens,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      stop: [body.stop ?? []].flat(),
    };
    const job: Job = { type: "job", jobId, model: body.model, input: { kind: "chat", messages: body.messages }, sampling };
    nodes[this.#turn++ % nodes.length]!.send(JSON.stringify(job));
    const head = { id: `chatcmpl-${jobId}`, created: Math.floor(Date.now() / 1000), model: body.model };
    if (!body.stream) {
      let content = "";
      return new Promise((resolve) =>
        this.#answers.set(jobId, (frame) => {
          if (frame.type === "chunk") {
            content += frame.text;
            return;
          }
          this.#answers.delete(jobId);
          const choice = { index: 0, message: { role: "assistant", content }, finish_reason: frame.finishReason };
          resolve(Response.json({ ...head, object: "chat.completion", choices: [choice], usage: usageOf(frame) }));
        }),
      );
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const event = (choice: object, usage?: object) =>
      writer.write(
        encoder.encode(
          `data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", choices: [{ index: 0, ...choice }], usage })}\n\n`,
        ),
      );
    this.#answers.set(jobId, (frame) => {
      if (frame.type === "chunk") return void event({ delta: { content: frame.text }, finish_reason: null });
      this.#answers.delete(jobId);
      event({ delta: {}, finish_reason: frame.finishReason }, usageOf(frame));
      writer.write(encoder.encode("data: [DONE]\n\n"));
      writer.close();
    });
    return new Response(readable, { headers: { "content-type": "text/event-stream" } });
  }

  override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    const frame = JSON.parse(message as string) as NodeMessage;
    if (frame.type === "chunk" || frame.type === "done") this.#answers.get(frame.jobId)?.(frame);
    if (frame.type !== "hello") return;
    const models = frame.models.map((model) => model.id);
    socket.serializeAttachment(models);
    this.#join(socket, models);
    socket.send(JSON.stringify({ type: "welcome", nodeId: crypto.randomUUID(), protocol: PROTOCOL_VERSION }));
  }

  override webSocketClose(socket: WebSocket): void {
    for (const nodes of this.#nodes.values()) if (nodes.includes(socket)) nodes.splice(nodes.indexOf(socket), 1);
  }

  #join(socket: WebSocket, models: string[] | null): void {
    for (const model of models ?? []) this.#nodes.set(model, [...(this.#nodes.get(model) ?? []), socket]);
  }
}
