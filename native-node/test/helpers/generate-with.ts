import { EngineError, type GeneratedPiece, type GenerationRequest, type InferenceEngine } from "@rung/shared/node";
import { expect } from "vitest";

/** Runs one generation and keeps every piece, with the text they make together. */
export async function generateWith(engine: InferenceEngine, request: GenerationRequest, signal = new AbortController().signal) {
  const pieces: GeneratedPiece[] = [];
  const result = await engine.generate(request, { signal, onPiece: (piece) => pieces.push(piece) });
  return { ...result, pieces, text: pieces.map((p) => p.text).join("") };
}

/** The EngineError a generation rejected with; fails the test if it resolved or threw something else. */
export async function engineErrorOf(promise: Promise<unknown>): Promise<EngineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  return error as EngineError;
}
