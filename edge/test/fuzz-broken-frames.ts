/**
 * Job frames for fuzz-node-frames.ts that fail the node protocol's schemas by one field each (a chunk, a done,
 * a job-error, a heartbeat), as values; NodeFrames makes `bad` frames of them. They draw from its generator and
 * name its jobs, so the seed decides them too.
 */
import { MAX_TOKENS_PER_SECOND } from "@rung/shared/protocol";
import type { FuzzRandom } from "./fuzz-random.ts";

type Json = Record<string, unknown>;

/** A broken frame's value and what is wrong with it. */
export interface Broken {
  value: unknown;
  what: string;
}

export class BrokenFrames {
  constructor(
    private readonly rng: FuzzRandom,
    /** A job id to name: one the honest node holds now, when there is one. */
    private readonly jobId: () => string,
    /** The text a broken chunk carries: should one be taken, the answer shows it. */
    private readonly text: string,
  ) {}

  /** A chunk with one thing wrong. */
  chunk(): Broken {
    const rng = this.rng;
    const chunk: Json = { type: "chunk", jobId: this.jobId(), seq: 0, text: this.text, confidence: 0.5 };
    const breakers: [string, () => void][] = [
      ["negative seq", () => (chunk.seq = rng.pick([-1, -(2 ** 31), -Number.MAX_SAFE_INTEGER]))],
      ["fractional seq", () => (chunk.seq = rng.pick([0.5, 1.25]))],
      ["unsafe seq", () => (chunk.seq = rng.pick([2 ** 53, 2 ** 53 + 2, 1e21, 1.7976931348623157e308]))],
      ["seq of another type", () => (chunk.seq = rng.pick(["0", null, [], {}, true]))],
      ["confidence outside 0..1", () => (chunk.confidence = rng.pick([-0.01, 1.01, 2, -1, 1e308, -1e-300]))],
      ["confidence of another type", () => (chunk.confidence = rng.pick(["0.5", true, []]))],
      ["no confidence", () => delete chunk.confidence],
      ["confidences", () => (chunk.confidences = rng.pick([[], Array(257).fill(0.5), [2], [-1], "x", [0.5, "0.5"]]))],
      ["job id", () => (chunk.jobId = rng.pick(["", "a b", "j".repeat(129), 7, null, "é"]))],
      ["no job id", () => delete chunk.jobId],
      ["text", () => (chunk.text = rng.pick([7, null, { text: "x" }, ["x"]]))],
      ["no text", () => delete chunk.text],
    ];
    const [name, breakIt] = rng.pick(breakers);
    breakIt();
    return { value: chunk, what: `chunk with ${name}` };
  }

  /** A done with one thing wrong. */
  done(): Broken {
    const rng = this.rng;
    const done: Json = {
      type: "done",
      jobId: this.jobId(),
      chunks: 1,
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
    };
    const breakers: [string, () => void][] = [
      ["negative chunks", () => (done.chunks = rng.pick([-1, -0.5]))],
      ["unsafe chunks", () => (done.chunks = rng.pick([2 ** 53 + 2, 1e300]))],
      ["finish reason", () => (done.finishReason = rng.pick(["banana", "", null, "STOP"]))],
      ["no usage", () => delete done.usage],
      ["usage", () => (done.usage = rng.pick([{ promptTokens: -1, completionTokens: 0 }, { promptTokens: 1 }, null, "usage"]))],
      [
        "tool calls",
        () => (done.toolCalls = rng.pick([[{ id: "", name: "f", arguments: "{}" }], "calls", [{ id: "a", name: "f", arguments: {} }]])),
      ],
      ["129 tool calls", () => (done.toolCalls = Array.from({ length: 129 }, (_, i) => ({ id: `c${i}`, name: "f", arguments: "{}" })))],
    ];
    const [name, breakIt] = rng.pick(breakers);
    breakIt();
    return { value: done, what: `done with ${name}` };
  }

  /** A job-error whose error is not one. */
  jobError(): Broken {
    const rng = this.rng;
    const error = rng.pick<unknown>([
      undefined,
      "an error",
      { code: "", message: "m", retryable: true },
      { code: "c".repeat(65), message: "m", retryable: true },
      { code: "busy", message: "m".repeat(4_001), retryable: true },
      { code: "busy", message: "m", retryable: "yes" },
      { code: "busy", message: "m" },
    ]);
    return { value: { type: "job-error", jobId: this.jobId(), error }, what: "job-error with a bad error" };
  }

  /** A heartbeat past its bounds. */
  heartbeat(): Broken {
    const rng = this.rng;
    const heartbeat = rng.pick<Json>([
      { type: "heartbeat", activeJobs: 4097, models: [] },
      { type: "heartbeat", activeJobs: -1, models: [] },
      { type: "heartbeat", activeJobs: 0, models: Array.from({ length: 33 }, (_, i) => ({ id: `m${i}`, tokensPerSecond: 1 })) },
      { type: "heartbeat", activeJobs: 0, models: [{ id: "m", tokensPerSecond: MAX_TOKENS_PER_SECOND + 1 }] },
      { type: "heartbeat", activeJobs: 0, models: [], vramFreeBytes: -1 },
      { type: "heartbeat" },
    ]);
    return { value: heartbeat, what: "heartbeat out of bounds" };
  }
}
