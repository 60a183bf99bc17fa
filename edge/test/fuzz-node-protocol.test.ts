import { SELF } from "cloudflare:test";
import { errorBodySchema } from "@rung/shared/openai";
import { edgeMessageSchema, type Job, parseFrame } from "@rung/shared/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { callEdge } from "./fuzz-edge.ts";
import { type HonestJobs, hostileActor, type Tally } from "./fuzz-hostile-nodes.ts";
import { FORGED_TEXT, NodeFrames } from "./fuzz-node-frames.ts";
import { DEFAULT_FUZZ_SEED, FuzzRandom, fuzzSetting, withTimeout, yieldTurn } from "./fuzz-random.ts";
import { edgeStatus, model, nodeInStatus, sseData, TestNode } from "./test-node.ts";

/*
 * Seeded fuzzing of the node protocol: hostile nodes (fuzz-hostile-nodes.ts) send random and malformed frames
 * while an honest node answers every job and clients ask for answers. Replay a failure with the seed its message names:
 * `RUNG_FUZZ_SEED=<seed> RUNG_FUZZ_FRAMES=<n> npx vitest run test/fuzz-node-protocol.test.ts`.
 */

const SEED = fuzzSetting("SEED", DEFAULT_FUZZ_SEED);
const FRAMES = fuzzSetting("FRAMES", 3_000);
const CLIENT_REQUESTS = Math.max(40, Math.round(FRAMES / 20));
const REPLAY = `replay with RUNG_FUZZ_SEED=${SEED} RUNG_FUZZ_FRAMES=${FRAMES}`;

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
      return hostileActor(actorRng, new NodeFrames(actorRng, targets), budget, oversizedAt, jobs, tally, REPLAY);
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

function pause(ms: number): Promise<void> {
  return ms === 0 ? yieldTurn() : new Promise((resolve) => setTimeout(resolve, ms));
}
