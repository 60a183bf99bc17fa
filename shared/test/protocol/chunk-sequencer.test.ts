import { describe, expect, it } from "vitest";
import { ChunkSequencer, type SequencerEvent } from "../../protocol/chunk-sequencer.ts";
import type { Chunk, Done } from "../../protocol/messages.ts";

const JOB = "job-1";

function chunk(seq: number): Chunk {
  return { type: "chunk", jobId: JOB, seq, text: `t${seq}`, confidence: 0.5 };
}

function done(chunks: number): Done {
  return { type: "done", jobId: JOB, chunks, finishReason: "stop", usage: { promptTokens: 3, completionTokens: chunks } };
}

/** `0`, `1`, … for chunks and `done` for the end, so expectations read as sequences. */
function labels(events: SequencerEvent[]): string[] {
  return events.map((e) => (e.type === "chunk" ? String(e.chunk.seq) : "done"));
}

describe("ChunkSequencer", () => {
  it("releases chunks that arrive in order at once, then done", () => {
    const sequencer = new ChunkSequencer();
    expect(labels(sequencer.push(chunk(0)))).toEqual(["0"]);
    expect(labels(sequencer.push(chunk(1)))).toEqual(["1"]);
    expect(labels(sequencer.push(done(2)))).toEqual(["done"]);
    expect(sequencer.hasGap).toBe(false);
  });

  it("hands back the frames themselves", () => {
    const sequencer = new ChunkSequencer();
    const first = chunk(0);
    const end = done(1);
    expect(sequencer.push(first)).toEqual([{ type: "chunk", chunk: first }]);
    expect(sequencer.push(end)).toEqual([{ type: "done", done: end }]);
  });

  it("holds early chunks until the gap before them fills, then releases them in order", () => {
    const sequencer = new ChunkSequencer();
    expect(sequencer.push(chunk(2))).toEqual([]);
    expect(sequencer.push(chunk(1))).toEqual([]);
    expect(sequencer.hasGap).toBe(true);
    expect(labels(sequencer.push(chunk(0)))).toEqual(["0", "1", "2"]);
    expect(sequencer.hasGap).toBe(false);
  });

  it("ignores a duplicate of a chunk already released", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(0));
    expect(sequencer.push(chunk(0))).toEqual([]);
    expect(sequencer.hasGap).toBe(false);
    expect(labels(sequencer.push(chunk(1)))).toEqual(["1"]);
    expect(labels(sequencer.push(done(2)))).toEqual(["done"]);
  });

  it("ignores a duplicate of a chunk still held", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(1));
    expect(sequencer.push(chunk(1))).toEqual([]);
    expect(labels(sequencer.push(chunk(0)))).toEqual(["0", "1"]);
  });

  it("holds a done that arrives before its chunks until they have all been released", () => {
    const sequencer = new ChunkSequencer();
    expect(sequencer.push(done(2))).toEqual([]);
    expect(sequencer.hasGap).toBe(true);
    expect(sequencer.push(chunk(1))).toEqual([]);
    expect(labels(sequencer.push(chunk(0)))).toEqual(["0", "1", "done"]);
    expect(sequencer.hasGap).toBe(false);
  });

  it("releases a done that counts no chunks at once", () => {
    const sequencer = new ChunkSequencer();
    expect(labels(sequencer.push(done(0)))).toEqual(["done"]);
    expect(sequencer.hasGap).toBe(false);
  });

  it("reports a gap while a done waits for a chunk that has not come", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(0));
    sequencer.push(done(2));
    expect(sequencer.hasGap).toBe(true);
    expect(sequencer.isInconsistent).toBe(false);
  });

  it("has no gap before anything arrives", () => {
    const sequencer = new ChunkSequencer();
    expect(sequencer.hasGap).toBe(false);
    expect(sequencer.isInconsistent).toBe(false);
  });

  it("flags a done that counts fewer chunks than were released, and never releases it", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(0));
    sequencer.push(chunk(1));
    expect(sequencer.push(done(1))).toEqual([]);
    expect(sequencer.isInconsistent).toBe(true);
  });

  it("flags the inconsistency once held chunks beyond done's count are released", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(1));
    sequencer.push(done(1));
    expect(sequencer.isInconsistent).toBe(false);
    expect(labels(sequencer.push(chunk(0)))).toEqual(["0", "1"]);
    expect(sequencer.isInconsistent).toBe(true);
  });

  it("is consistent after a complete job", () => {
    const sequencer = new ChunkSequencer();
    sequencer.push(chunk(0));
    sequencer.push(done(1));
    expect(sequencer.isInconsistent).toBe(false);
  });
});
