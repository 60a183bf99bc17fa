// The floor: the least Worker + Durable Object that relays a chat completion to a node over a
// hibernatable WebSocket and back, in Rung's wire protocol so the same node serves both. No
// validation, routing, queue, retries or escalation: what Rung's edge costs above this, it
// costs itself; this is the platform's limit. Nodes are kept per model only so that idle nodes
// announcing other models never get a job.
import { DurableObject } from "cloudflare:workers";
import { type Job, type NodeMessage, PING_FRAME, PONG_FRAME } from "@rung/shared/protocol";

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

/** What a job's frames turn into: SSE events as they come, or one JSON body at the end. */
interface Answer {
  text(piece: string): void;
  done(finishReason: string): void;
}

const encoder = new TextEncoder();

export default {
  fetch: (request: Request, env: Env) => env.FLOOR.get(env.FLOOR.idFromName("main")).fetch(request),
};

export class Floor extends DurableObject<Env> {
  readonly #nodes = new Map<string, WebSocket[]>();
  #turn = 0;
  readonly #answers = new Map<string, Answer>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    // After hibernation the sockets survive and the maps do not: rebuild them from the attachments.
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
    const created = Math.floor(Date.now() / 1000);
    const head = { id: `chatcmpl-${jobId}`, created, model: body.model };
    if (!body.stream) {
      let text = "";
      return new Promise((resolve) =>
        this.#answers.set(jobId, {
          text: (piece) => (text += piece),
          done: (finish_reason) =>
            resolve(
              Response.json({
                ...head,
                object: "chat.completion",
                choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason }],
              }),
            ),
        }),
      );
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const event = (delta: object, finish_reason: string | null) =>
      writer.write(
        encoder.encode(
          `data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason }] })}\n\n`,
        ),
      );
    this.#answers.set(jobId, {
      text: (content) => event({ content }, null),
      done: (finishReason) => {
        event({}, finishReason);
        writer.write(encoder.encode("data: [DONE]\n\n"));
        writer.close();
      },
    });
    return new Response(readable, { headers: { "content-type": "text/event-stream" } });
  }

  override webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    const frame = JSON.parse(message as string) as NodeMessage;
    if (frame.type === "hello") {
      const models = frame.models.map((model) => model.id);
      socket.serializeAttachment(models);
      this.#join(socket, models);
      socket.send(JSON.stringify({ type: "welcome", nodeId: crypto.randomUUID(), protocol: "1.4" }));
    } else if (frame.type === "chunk") {
      this.#answers.get(frame.jobId)?.text(frame.text);
    } else if (frame.type === "done" || frame.type === "job-error") {
      this.#answers.get(frame.jobId)?.done(frame.type === "done" ? frame.finishReason : "error");
      this.#answers.delete(frame.jobId);
    }
  }

  override webSocketClose(socket: WebSocket): void {
    for (const [model, nodes] of this.#nodes)
      this.#nodes.set(
        model,
        nodes.filter((node) => node !== socket),
      );
  }

  #join(socket: WebSocket, models: string[] | null): void {
    for (const model of models ?? []) {
      if (!this.#nodes.has(model)) this.#nodes.set(model, []);
      this.#nodes.get(model)!.push(socket);
    }
  }
}
