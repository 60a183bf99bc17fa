// The idle fleet's own process (started by IdleNodes): thousands of sockets would crowd the
// suite's event loop and its timings. Commands come over IPC; each gets one reply.
import { type Heartbeat, type Hello, PROTOCOL_VERSION } from "@rung/shared/protocol";
import WebSocket from "ws";
import type { IdleCommand, IdleReply } from "./idle-nodes.ts";

/** Idle nodes announce one of this many models, none of which any request names. */
const MODELS = 10;
const HEARTBEAT: Heartbeat = { type: "heartbeat", activeJobs: 0, models: [] };

const edgeUrl = process.argv[2]!;
/** Offer permessage-deflate, as rung-agent's ws client does by default? */
const deflate = process.argv[3] === "deflate";
const sockets: WebSocket[] = [];

process.on("message", async (command: IdleCommand) => {
  const reply: IdleReply =
    command.type === "connect" ? await connect(command.total, command.batch, command.deadline) : { sent: await heartbeat() };
  process.send!(reply);
});
// Its sockets would keep it alive after the suite ended some other way than by killing it.
process.on("disconnect", () => process.exit(0));
process.send!({ ready: true } satisfies IdleReply);

/** Adds nodes in parallel batches until `total` are joined, or the deadline (epoch ms) passes. */
async function connect(total: number, batch: number, deadline: number): Promise<IdleReply> {
  let failed = 0;
  while (sockets.length < total && Date.now() < deadline) {
    const size = Math.min(batch, total - sockets.length);
    const joined = await Promise.all(Array.from({ length: size }, (_, i) => join(sockets.length + failed + i).catch(() => undefined)));
    for (const socket of joined) socket ? sockets.push(socket) : failed++;
  }
  return { connected: sockets.length, failed, extensions: sockets[0]?.extensions ?? "" };
}

/** One node: a hello like an agent's, with one slot, then silence until told otherwise. */
async function join(index: number): Promise<WebSocket> {
  const socket = new WebSocket(`${edgeUrl.replace(/^http/, "ws")}/v1/nodes/connect`, {
    handshakeTimeout: 30_000,
    perMessageDeflate: deflate,
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const model = { id: `idle-${index % MODELS}`, parameters: 1, quantization: "none", contextLength: 4096, tokensPerSecond: 0, slots: 1 };
  const hello: Hello = {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: `idle-${index}`, kind: "native", engine: "echo", slots: 1 },
    models: [model],
  };
  const welcome = new Promise((resolve, reject) => socket.once("message", resolve).once("close", reject));
  socket.send(JSON.stringify(hello));
  await welcome;
  // Whatever the edge sends later (nothing, for an idle node) is read and dropped.
  socket.on("error", () => {});
  return socket;
}

/** One heartbeat frame on every socket; resolves when all are written to the kernel. */
async function heartbeat(): Promise<number> {
  const frame = JSON.stringify(HEARTBEAT);
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.send(frame, resolve))));
  return sockets.length;
}
