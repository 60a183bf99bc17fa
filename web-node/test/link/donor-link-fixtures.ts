/**
 * DonorLink against a real `ws` server on 127.0.0.1 playing the edge, as the
 * native agent's EdgeLink is tested: real sockets, real partysocket reconnects
 * (500 ms minimum plus up to 1 s of random wait), so waits are bounded at 5 s.
 * Here is what the donor-link-*.test.ts files share: the model, frame predicates and `setup`.
 */
import { EchoEngine, type InferenceEngine } from "@rung/shared/node";
import type { Chunk, Done, Heartbeat, Hello, Job, JobError, ModelInfo, NodeMessage } from "@rung/shared/protocol";
import { vi } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { DonorLink, type DonorLinkOptions, type LinkState } from "../../src/link/donor-link.ts";
import { FakeEdge } from "./fake-edge.ts";
import { Wakeups } from "./wakeups.ts";

export const MODEL: ModelInfo = {
  id: "echo-1",
  parameters: 1_000,
  quantization: "F32",
  contextLength: 512,
  tokensPerSecond: 100,
  slots: 1,
};
const IDENTITY = { name: "tab-test", kind: "browser", trust: "public" } as const;

export const isHello = (f: NodeMessage): f is Hello => f.type === "hello";
export const isHeartbeat = (f: NodeMessage): f is Heartbeat => f.type === "heartbeat";
export const isChunk = (f: NodeMessage): f is Chunk => f.type === "chunk";
export const isDoneOf =
  (jobId: string) =>
  (f: NodeMessage): f is Done =>
    f.type === "done" && f.jobId === jobId;
export const isJobErrorOf =
  (jobId: string) =>
  (f: NodeMessage): f is JobError =>
    f.type === "job-error" && f.jobId === jobId;
export const isDraining = (f: NodeMessage): f is Extract<NodeMessage, { type: "draining" }> => f.type === "draining";
export const mentions = (jobId: string) => (f: NodeMessage) => "jobId" in f && f.jobId === jobId;

export const job = (jobId: string, content: string): Job => ({
  type: "job",
  jobId,
  model: MODEL.id,
  input: { kind: "chat", messages: [{ role: "user", content }] },
  sampling: { temperature: 0, topP: 1, stop: [] },
});

const cleanups: Array<() => Promise<void>> = [];

/** Closes what `setup` opened, newest first, and restores spied-on functions; for `afterEach`. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
}

/** A FakeEdge and a DonorLink to it, closed by `cleanUp`; `join` welcomes the tab on a connection. */
export async function setup(options: { engine?: InferenceEngine; link?: Partial<DonorLinkOptions> } = {}) {
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
