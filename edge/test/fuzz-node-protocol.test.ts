import { SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { type EdgeMessage, edgeMessageSchema, type Job, parseFrame } from "@rung/shared/protocol";
import { afterAll, describe, expect, it, vi } from "vitest";
import { callEdge } from "./fuzz-edge.ts";
import { FORGED_TEXT, type FuzzFrame, NodeFrames } from "./fuzz-node-frames.ts";
import { DEFAULT_FUZZ_SEED, FuzzRandom, fuzzSetting, withTimeout, yieldTurn } from "./fuzz-random.ts";
import { edgeStatus, helloOf, model, nodeInStatus, sseData, TestNode } from "./test-node.ts";

/*
 * Seeded fuzzing of the node protocol: hostile nodes send random and malformed frames while an honest node
 * answers every job and clients ask for answers. Replay a failure with the seed its message names:
 * `RUNG_FUZZ_SEED=<seed> RUNG_FUZZ_FRAMES=<n> npx vitest run test/fuzz-node-protocol.test.ts`.
 */

const SEED = fuzzSetting("SEED", DEFAULT_FUZZ_SEED);
const FRAMES = fuzzSetting("FRAMES", 3_000);
const CLIENT_REQUESTS = Math.max(40, Math.round(FRAMES / 20));
const REPLAY = `replay with RUNG_FUZZ_SEED=${SEED} RUNG_FUZZ_FRAMES=${FRAMES}`;

/** The edge drops a node after this many bad frames (`MAX_BAD_FRAMES` in socket-transport.ts). */
const MAX_BAD_FRAMES = 5;
/** Hostile nodes at work at once, each one after another on its own loop. */
const ACTORS = 6;
/** Frames past the edge's 4 MiB limit in a run, one each from the first actors: each costs tens of milliseconds. */
const OVERSIZED_FRAMES = 2;
const CLIENTS_AT_ONCE = 4;
/** Far past the edge's own request timeout in the tests (6 s): an answer later than this is a hang. */
const REQUEST_DEADLINE_MS = 15_000;

const HONEST = model("rung-honest", 1_000_000, 2048, 16);
const HONEST_PIECES = ["The honest ", "answer, ", "every time."];
const HONEST_TEXT = HONEST_PIECES.join("");
/** A node that holds its own jobs and misbehaves on them with well-formed frames: done twice, duplicates, a lying count. */
const ROGUE = model("rung-rogue", 1_000_000, 2048, 16);
const ROGUE_PIECES = ["rogue ", "text"];
/** What the rogue may answer: every piece, or all but the last when its lying `done` comes first. */
const ROGUE_ANSWERS = [ROGUE_PIECES.join(""), ROGUE_PIECES.slice(0, -1).join("")];

afterAll(() => TestNode.closeAll());
const t0 = Date.now();

/** The honest node's jobs: those it holds now (worth forging frames for) and every one it was given. */
interface HonestJobs {
  live: Set<string>;
  past: string[];
  /** Sends that threw: the honest node's socket was closed under it. */
  sendFailures: string[];
}

interface Tally {
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

describe(`node protocol fuzz (seed ${SEED}, ${FRAMES} frames, ${CLIENT_REQUESTS} client requests)`, () => {
  it("keeps every answer honest and drops each node past its bad frames while hostile nodes storm it", { timeout: 120_000 }, async () => {
    console.log(`fuzz-node-protocol: seed ${SEED}, ${FRAMES} hostile frames, ${CLIENT_REQUESTS} client requests (${REPLAY})`);
    const started = Date.now();
    const rng = new FuzzRandom(SEED);
    const jobs: HonestJobs = { live: new Set(), past: [], sendFailures: [] };
    const honest = await TestNode.join("honest", [HONEST], 16);
    serveHonestly(honest, rng.fork(), jobs);
    const rogue = await TestNode.join("rogue", [ROGUE], 16);
    serveRoguishly(rogue, rng.fork());

    const tally: Tally = {
      nodes: 0,
      crossed: 0,
      refused: 0,
      stayed: 0,
      frames: 0,
      badFrames: 0,
      forgeries: 0,
      forgeriesOfLiveJobs: 0,
      oversized: 0,
    };
    const targets = { liveJobIds: () => [...jobs.live], pastJobIds: () => jobs.past, reservedModels: [HONEST.id, ROGUE.id] };
    const storm = Array.from({ length: ACTORS }, (_, actor) => {
      // Each actor its own generator and share of the frames, so the seed decides each one's frames whatever the schedule.
      const actorRng = rng.fork();
      const budget = { left: Math.floor(FRAMES / ACTORS) + (actor < FRAMES % ACTORS ? 1 : 0) };
      const oversizedAt = actor < OVERSIZED_FRAMES ? Math.floor(budget.left / 2) : undefined;
      return hostileActor(actorRng, new NodeFrames(actorRng, targets), budget, oversizedAt, jobs, tally);
    });

    const clientRng = rng.fork();
    const requests = Array.from({ length: CLIENT_REQUESTS }, (_, i) => ({
      i,
      rogue: clientRng.chance(0.2),
      stream: clientRng.chance(0.5),
      viaSelf: clientRng.chance(0.2),
    }));
    let nextRequest = 0;
    const clients = Array.from({ length: CLIENTS_AT_ONCE }, async () => {
      for (let request = requests[nextRequest++]; request; request = requests[nextRequest++]) await clientRequest(request);
    });
    await Promise.all([...storm, ...clients]);

    // The edge still answers, and the honest node was never dropped nor told off.
    const health = await SELF.fetch("http://edge/health");
    expect(health.status, REPLAY).toBe(200);
    expect(((await health.json()) as { models: string[] }).models, REPLAY).toContain(HONEST.id);
    await clientRequest({ i: CLIENT_REQUESTS, rogue: false, stream: false, viaSelf: true });
    expect(honest.closed, `the honest node was disconnected (${REPLAY})`).toBe(false);
    expect(jobs.sendFailures, REPLAY).toEqual([]);
    expect(
      honest.received.filter((m) => m.type === "error"),
      REPLAY,
    ).toEqual([]);
    expect(nodeInStatus(await edgeStatus(), HONEST.id, "honest"), REPLAY).toBeDefined();
    expect(rogue.closed, `the rogue node sent only well-formed frames, yet was disconnected (${REPLAY})`).toBe(false);
    expect(
      rogue.received.filter((m) => m.type === "error"),
      REPLAY,
    ).toEqual([]);

    console.log(`fuzz-node-protocol: ${JSON.stringify(tally)}, ${jobs.past.length} honest jobs, ${Date.now() - started} ms`);
    expect(tally.frames, REPLAY).toBe(FRAMES);
    if (FRAMES >= 1_000) {
      // The run exercised what it claims to: nodes dropped and refused, and forgeries that raced a job in flight.
      expect(tally.crossed, REPLAY).toBeGreaterThan(0);
      expect(tally.refused, REPLAY).toBeGreaterThan(0);
      expect(tally.forgeriesOfLiveJobs, REPLAY).toBeGreaterThan(0);
      expect(tally.oversized, REPLAY).toBe(OVERSIZED_FRAMES);
    }
  });
});

/** Answers every job with the known text, a piece a turn, so forgeries arrive while the job is in flight. */
function serveHonestly(node: TestNode, rng: FuzzRandom, jobs: HonestJobs): void {
  onJob(node, async (job) => {
    jobs.live.add(job.jobId);
    jobs.past.push(job.jobId);
    const send = (frame: Record<string, unknown>) => {
      try {
        node.send(frame);
      } catch (error) {
        jobs.sendFailures.push(`${job.jobId}: ${String(error)}`);
      }
    };
    for (const [seq, text] of HONEST_PIECES.entries()) {
      await pause(rng.int(0, 4));
      send({ type: "chunk", jobId: job.jobId, seq, text, confidence: 0.99 });
    }
    await pause(rng.int(0, 4));
    send({
      type: "done",
      jobId: job.jobId,
      chunks: HONEST_PIECES.length,
      finishReason: "stop",
      usage: { promptTokens: 5, completionTokens: 3 },
    });
    jobs.live.delete(job.jobId);
  });
}

/** Holds its own jobs and misbehaves on them, always with frames the protocol allows. */
function serveRoguishly(node: TestNode, rng: FuzzRandom): void {
  const chunk = (job: Job, seq: number, text: string) => node.send({ type: "chunk", jobId: job.jobId, seq, text, confidence: 0.99 });
  const done = (job: Job, chunks: number) =>
    node.send({ type: "done", jobId: job.jobId, chunks, finishReason: "stop", usage: { promptTokens: 5, completionTokens: chunks } });
  const behaviours: ((job: Job) => void)[] = [
    (job) => {
      node.answer(job, ROGUE_PIECES);
      done(job, ROGUE_PIECES.length);
      chunk(job, ROGUE_PIECES.length, " after done");
      chunk(job, 0, " duplicate");
    },
    (job) => {
      for (const [seq, text] of ROGUE_PIECES.entries()) for (let twice = 0; twice < 2; twice++) chunk(job, seq, text);
      done(job, ROGUE_PIECES.length);
    },
    (job) => {
      for (const [seq, text] of [...ROGUE_PIECES.entries()].reverse()) chunk(job, seq, text);
      done(job, ROGUE_PIECES.length);
    },
    (job) => {
      for (const [seq, text] of ROGUE_PIECES.entries()) chunk(job, seq, text);
      done(job, ROGUE_PIECES.length - 1);
    },
    (job) =>
      node.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "rogue", retryable: rng.chance(0.5) } }),
  ];
  onJob(node, (job) => rng.pick(behaviours)(job));
}

function onJob(node: TestNode, handle: (job: Job) => unknown): void {
  node.socket.addEventListener("message", (event) => {
    const parsed = parseFrame(edgeMessageSchema, event.data as string);
    if (parsed.ok && parsed.value.type === "job") void handle(parsed.value);
  });
}

/** One client request, whole or streamed: it ends once, with the honest text (or the rogue's), or an OpenAI error. */
async function clientRequest(request: { i: number; rogue: boolean; stream: boolean; viaSelf: boolean }): Promise<void> {
  const target = request.rogue ? ROGUE : HONEST;
  const what = `request ${request.i} for ${target.id}, ${request.stream ? "streamed" : "whole"} (${REPLAY})`;
  const messages = [{ role: "user", content: `question ${request.i}` }];
  const init = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: target.id, stream: request.stream, messages }),
  };
  const { status, body } = await withTimeout(
    callEdge("/v1/chat/completions", init, request.viaSelf).then(async (response) => ({
      status: response.status,
      body: await response.text(),
    })),
    REQUEST_DEADLINE_MS,
    () => what,
  );
  if (status !== 200) {
    expect(request.rogue, `${what}: the honest node's request failed with ${status} ${body.slice(0, 500)}`).toBe(true);
    expect(status, what).toBeGreaterThanOrEqual(400);
    expect(() => errorBodySchema.parse(JSON.parse(body)), `${what}: ${body.slice(0, 500)}`).not.toThrow();
    return;
  }
  // The rogue's own answers are whatever it says they are: its `done` that counts one chunk too few ends the
  // answer early when it overtakes the last chunk (the test pool may deliver a socket's frames out of order).
  const expected = request.rogue ? ROGUE_ANSWERS : [HONEST_TEXT];
  if (!request.stream) {
    const answer = JSON.parse(body) as { choices: { message: { content: string } }[] };
    expectAnswer(expected, answer.choices[0]?.message.content, `${what}: ${body.slice(0, 500)}`);
    return;
  }
  const data = await sseData(new Response(body));
  expect(
    data.filter((d) => d === "[DONE]"),
    `${what}: ${body.slice(-500)}`,
  ).toHaveLength(1);
  expect(data.at(-1), what).toBe("[DONE]");
  const events = data.slice(0, -1).map((d) => JSON.parse(d) as { error?: unknown; choices?: { delta?: { content?: string } }[] });
  const failure = events.find((e) => e.error !== undefined);
  if (failure) {
    expect(request.rogue, `${what}: the honest node's stream failed: ${JSON.stringify(failure)}`).toBe(true);
    expect(() => errorBodySchema.parse(failure), what).not.toThrow();
    expect(events.at(-1), `${what}: the error event is the stream's last`).toBe(failure);
    return;
  }
  expectAnswer(expected, events.map((e) => e.choices?.[0]?.delta?.content ?? "").join(""), `${what}: ${body.slice(0, 1_000)}`);
}

function expectAnswer(expected: string[], content: string | undefined, what: string): void {
  expect(content?.includes(FORGED_TEXT), `a forged frame changed the answer: ${what}`).toBe(false);
  expect(expected, what).toContain(content);
}

/** Hostile nodes, one after another, until the run's frames are spent. */
async function hostileActor(
  rng: FuzzRandom,
  frames: NodeFrames,
  budget: { left: number },
  oversizedAt: number | undefined,
  jobs: HonestJobs,
  tally: Tally,
): Promise<void> {
  while (budget.left > 0) {
    const persona = rng.pick(["forger", "noisy", "stranger", "helloer"] as const);
    const node = await TestNode.from(await callEdge("/v1/nodes/connect", { headers: { upgrade: "websocket" } }, false));
    tally.nodes += 1;
    const expected: Expected = { joined: false, bad: 0, errors: 0, welcomes: 0, closed: false, refused: false, sent: [] };
    const describeNode = () => `${persona} node ${tally.nodes} after ${expected.sent.join(", ")} (${REPLAY})`;
    let last: FuzzFrame | undefined;
    for (let n = rng.int(3, 60); n > 0 && !expected.closed && budget.left > 0; n--) {
      const oversized = budget.left === oversizedAt;
      budget.left -= 1;
      if (budget.left % 250 === 0) console.log("left", budget.left, Date.now() - t0, tally.nodes);
      // Sometimes the same frame again: a duplicate forgery, or one more bad frame.
      const frame = oversized ? frames.oversized() : last && rng.chance(0.08) ? last : choose(persona, frames, rng, expected);
      last = frame;
      // Frames are answered in order, but a hello changes what the next frames mean: let the edge catch up first.
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
      throw new Error(
        `the edge answered ${errorsOf(node).length} of ${expected.errors} bad frames and ${welcomesOf(node).length} of ` +
          `${expected.welcomes} hellos within 10 s: ${describeNode()}`,
      );
    });
}

/**
 * The node's last word: one past the limit must have been closed after a fatal error, one under it must
 * still be open; either way the edge answered every bad frame, exactly once, and gave it no job.
 */
async function finish(node: TestNode, expected: Expected, tally: Tally, describeNode: () => string): Promise<void> {
  if (!expected.closed) {
    // A last hello: its welcome comes after the answers to every frame before it.
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

function pause(ms: number): Promise<void> {
  return ms === 0 ? yieldTurn() : new Promise((resolve) => setTimeout(resolve, ms));
}
