/**
 * The hostile nodes of fuzz-node-protocol.test.ts: each connects, sends frames of its persona until its share
 * of the run's frames is spent or the edge drops it, and checks that the edge answered every frame as the
 * frame's kind says it must (a typed error per bad frame, a welcome per hello, closed past five bad frames).
 */
import type { EdgeMessage } from "@rung/shared/protocol";
import { expect, vi } from "vitest";
import { callEdge } from "./fuzz-edge.ts";
import type { FuzzFrame, NodeFrames } from "./fuzz-node-frames.ts";
import { type FuzzRandom, yieldTurn } from "./fuzz-random.ts";
import { helloOf, model, TestNode } from "./test-node.ts";

/** The edge drops a node after this many bad frames (`MAX_BAD_FRAMES` in socket-transport.ts). */
const MAX_BAD_FRAMES = 5;
/** When the run began, for its progress lines. */
const t0 = Date.now();

/** The honest node's jobs: those it holds now (worth forging frames for) and every one it was given. */
export interface HonestJobs {
  live: Set<string>;
  past: string[];
  /** Sends that threw: the honest node's socket was closed under it. */
  sendFailures: string[];
}

export interface Tally {
  nodes: number;
  /** Nodes the edge closed after their fifth bad frame. */
  crossed: number;
  /** Nodes whose hello the edge refused (another major version). */
  refused: number;
  /** Nodes that stayed under the limit and left on their own. */
  stayed: number;
  frames: number;
  badFrames: number;
  forgeries: number;
  /** Forged frames naming a job the honest node held at that moment. */
  forgeriesOfLiveJobs: number;
  oversized: number;
}

/** What a hostile node's frames so far must have made the edge do. */
interface Expected {
  joined: boolean;
  bad: number;
  errors: number;
  welcomes: number;
  closed: boolean;
  refused: boolean;
  sent: string[];
}

/** Hostile nodes, one after another, until the run's frames are spent. */
export async function hostileActor(
  rng: FuzzRandom,
  frames: NodeFrames,
  budget: { left: number },
  oversizedAt: number | undefined,
  jobs: HonestJobs,
  tally: Tally,
  /** How to replay the run, for a failure's message. */
  replay: string,
): Promise<void> {
  while (budget.left > 0) {
    const persona = rng.pick(["forger", "noisy", "stranger", "helloer"] as const);
    const node = await TestNode.from(await callEdge("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, false));
    tally.nodes += 1;
    const expected: Expected = { joined: false, bad: 0, errors: 0, welcomes: 0, closed: false, refused: false, sent: [] };
    const describeNode = () => `${persona} node ${tally.nodes} after ${expected.sent.join(", ")} (${replay})`;
    let last: FuzzFrame | undefined;
    for (let n = rng.int(3, 60); n > 0 && !expected.closed && budget.left > 0; n--) {
      const oversized = budget.left === oversizedAt;
      budget.left -= 1;
      if (budget.left % 250 === 0) console.log("left", budget.left, Date.now() - t0, tally.nodes);
      // Sometimes the same frame again: a duplicate forgery, or one more bad frame.
      const frame = oversized ? frames.oversized() : last && rng.chance(0.08) ? last : choose(persona, frames, rng, expected);
      last = frame;
      // A hello changes what the frames around it mean, and local workerd has handed the object a socket's frames
      // out of order (five sent at once: the last, a hello, answered first, and the first, a frame that needs a
      // hello before it, then taken as coming after it): let the edge answer every frame before a hello is sent.
      if (frame.kind === "hello" || frame.kind === "refused-hello") await settled(node, expected, describeNode);
      send(node, frame, expected, jobs, tally, oversized);
      if (frame.kind === "hello") await settled(node, expected, describeNode);
      if (rng.chance(0.3)) await yieldTurn();
    }
    await finish(node, expected, tally, describeNode);
  }
}

function choose(persona: "forger" | "noisy" | "stranger" | "helloer", frames: NodeFrames, rng: FuzzRandom, expected: Expected): FuzzFrame {
  switch (persona) {
    case "forger":
      // Joins, then mostly forges frames for the honest node's jobs.
      if (!expected.joined) return frames.hello();
      return rng.weighted<() => FuzzFrame>([
        [16, () => frames.valid()],
        [2, () => frames.bad()],
        [1, () => frames.hello()],
      ])();
    case "noisy":
      if (!expected.joined && rng.chance(0.5)) return frames.hello();
      return rng.weighted<() => FuzzFrame>([
        [6, () => frames.bad()],
        [1, () => frames.valid()],
        [1, () => frames.badHello()],
      ])();
    case "stranger":
      // Never says a hello the edge takes: every frame it sends is a bad one.
      return rng.weighted<() => FuzzFrame>([
        [1, () => frames.valid()],
        [2, () => frames.bad()],
        [1, () => frames.badHello()],
      ])();
    case "helloer":
      return rng.weighted<() => FuzzFrame>([
        [4, () => frames.badHello()],
        [2, () => frames.hello()],
        [1, () => frames.refusedHello()],
        [1, () => frames.valid()],
        [1, () => frames.bad()],
      ])();
  }
}

/** Sends the frame and notes what the edge must do about it. */
function send(node: TestNode, frame: FuzzFrame, expected: Expected, jobs: HonestJobs, tally: Tally, oversized: boolean): void {
  tally.frames += 1;
  if (oversized) tally.oversized += 1;
  if (frame.jobId !== undefined && frame.kind === "valid" && expected.joined) {
    tally.forgeries += 1;
    if (jobs.live.has(frame.jobId)) tally.forgeriesOfLiveJobs += 1;
  }
  expected.sent.push(frame.what);
  node.socket.send(frame.data);
  switch (frame.kind) {
    case "hello":
      expected.joined = true;
      expected.welcomes += 1;
      return;
    case "refused-hello":
      expected.errors += 1;
      expected.closed = true;
      expected.refused = true;
      return;
    case "valid":
      // Well formed, but before a hello nothing but a hello is.
      if (expected.joined) return;
      break;
    case "bad":
      break;
  }
  tally.badFrames += 1;
  expected.bad += 1;
  expected.errors += 1;
  if (expected.bad >= MAX_BAD_FRAMES) expected.closed = true;
}

const errorsOf = (node: TestNode) => node.received.filter((m): m is Extract<EdgeMessage, { type: "error" }> => m.type === "error");
const welcomesOf = (node: TestNode) => node.received.filter((m) => m.type === "welcome");

/** Waits until the edge answered every frame that needed an answer. */
async function settled(node: TestNode, expected: Expected, describeNode: () => string): Promise<void> {
  await vi
    .waitFor(
      () => {
        if (errorsOf(node).length < expected.errors || welcomesOf(node).length < expected.welcomes) throw new Error("waiting");
      },
      { timeout: 10_000, interval: 2 },
    )
    .catch(() => {
      const answers = node.received.map((m) => (m.type === "error" ? `error (${m.error.message.slice(0, 80)})` : m.type));
      throw new Error(
        `the edge answered ${errorsOf(node).length} of ${expected.errors} bad frames and ${welcomesOf(node).length} of ` +
          `${expected.welcomes} hellos within 10 s${node.closed ? ", and closed the socket" : ""}: ${describeNode()}; ` +
          `it answered ${answers.join(", ") || "nothing"}`,
      );
    });
}

/**
 * The node's last word: one past the limit must have been closed after a fatal error, one under it must
 * still be open; either way the edge answered every bad frame, exactly once, and gave it no job.
 */
async function finish(node: TestNode, expected: Expected, tally: Tally, describeNode: () => string): Promise<void> {
  if (!expected.closed) {
    // A last hello, once every frame before it was answered (see the hello in hostileActor).
    await settled(node, expected, describeNode);
    node.send(helloOf("sentinel", [model(`hostile-sentinel-${tally.nodes}`, 1_000)]));
    expected.welcomes += 1;
    expected.joined = true;
  }
  await settled(node, expected, describeNode);
  if (expected.closed) {
    await vi.waitFor(() => expect(node.closed, `the edge left a node open past its limit: ${describeNode()}`).toBe(true), {
      timeout: 10_000,
      interval: 2,
    });
  }
  const errors = errorsOf(node);
  expect(errors.length, `bad frames answered: ${describeNode()}`).toBe(expected.errors);
  expect(welcomesOf(node).length, `hellos welcomed: ${describeNode()}`).toBe(expected.welcomes);
  expect(
    errors.map((e) => e.fatal),
    `fatal only at the end, and only past the limit: ${describeNode()}`,
  ).toEqual(errors.map((_, i) => expected.closed && i === errors.length - 1));
  const codes = errors.map((e) => e.error.code);
  const lastCode = expected.refused ? "protocol_version_unsupported" : "bad_frame";
  expect(codes, describeNode()).toEqual(codes.map((_, i) => (i === codes.length - 1 ? lastCode : "bad_frame")));
  expect(
    node.received.filter((m) => m.type === "job"),
    `a hostile node got a job: ${describeNode()}`,
  ).toEqual([]);
  expect(node.closed, `the edge closed a node under its limit: ${describeNode()}`).toBe(expected.closed);
  if (expected.refused) tally.refused += 1;
  else if (expected.closed) tally.crossed += 1;
  else tally.stayed += 1;
  node.close();
}
