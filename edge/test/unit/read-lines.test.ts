import { describe, expect, it } from "vitest";
import { LineTooLongError, readLines } from "../../src/read-lines.ts";

const encoder = new TextEncoder();

function body(pieces: string[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next < pieces.length) controller.enqueue(encoder.encode(pieces[next++]!));
      else controller.close();
    },
  });
}

async function linesOf(pieces: string[], maxLineLength?: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(body(pieces), maxLineLength === undefined ? {} : { maxLineLength })) lines.push(line);
  return lines;
}

describe("readLines", () => {
  it("yields each line once it ends, across pieces, skipping empty ones and an unfinished last one", async () => {
    expect(await linesOf(['{"a":', '1}\n{"b":2}\n\n{"c"', ":3}\n", "unfinished"])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("refuses a line longer than allowed, whether it ends or keeps growing", async () => {
    await expect(linesOf(["ok\n", "x".repeat(11), "\n"], 10)).rejects.toBeInstanceOf(LineTooLongError);
    await expect(linesOf(["ok\n", ...Array(64).fill("y".repeat(1024))], 10_000)).rejects.toThrow(/grew past 10000/);
  });
});
