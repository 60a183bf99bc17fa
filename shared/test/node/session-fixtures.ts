/** What the NodeSession tests share: a tiny model, jobs, sessions over EchoEngine, and frame filters. */
import { afterEach, beforeEach, vi } from "vitest";
import { EchoEngine } from "../../node/echo-engine.ts";
import type { GenerationResult, InferenceEngine } from "../../node/inference-engine.ts";
import { NodeSession } from "../../node/node-session.ts";
import type { Job, JobError, ModelInfo, NodeMessage } from "../../protocol/messages.ts";

export const tiny: ModelInfo = { id: "tiny", parameters: 1_000, quantization: "F16", contextLength: 512, tokensPerSecond: 100, slots: 1 };
/** What EchoEngine really does: no JSON, no tools, a confidence per piece. */
export const echoTiny: ModelInfo = { ...tiny, capabilities: { jsonSchema: false, tools: false, logprobs: true } };

/** Echo pieces arrive this far apart, so a test can act between them with fake timers. */
export const PIECE_MS = 10;

export function job(jobId: string, text: string, overrides: Partial<Job> = {}): Job {
  return {
    type: "job",
    jobId,
    model: tiny.id,
    input: { kind: "chat", messages: [{ role: "user", content: text }] },
    sampling: { temperature: 0, topP: 1, stop: [] },
    ...overrides,
  };
}

export function sessionWith(engine: InferenceEngine) {
  const frames: NodeMessage[] = [];
  const session = new NodeSession(engine, { name: "test-node", kind: "native" }, (frame) => frames.push(frame));
  return { session, frames };
}

export function echoSession(slots = 1, pieceDelayMs = PIECE_MS) {
  return sessionWith(new EchoEngine({ models: [tiny], slots, pieceDelayMs, confidence: 0.75 }));
}

export function framesOf(frames: NodeMessage[], jobId: string): NodeMessage[] {
  return frames.filter((f) => "jobId" in f && f.jobId === jobId);
}

export function errorsOf(frames: NodeMessage[], jobId: string): JobError["error"][] {
  return framesOf(frames, jobId).flatMap((f) => (f.type === "job-error" ? [f.error] : []));
}

/** Lets the session's pending promise callbacks run without moving fake time. */
export async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** An engine whose generate() rejects with the given error. */
export function failingEngine(error: unknown): InferenceEngine {
  return {
    name: "echo",
    models: [tiny],
    slots: 1,
    generate: (): Promise<GenerationResult> => Promise.reject(error),
    dispose: async () => {},
  };
}

/** Every test of the calling file runs on fake timers, real ones restored after it. */
export function useFakeTimersPerTest(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
