import type { Token } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { PieceDecoder } from "../src/engines/piece-decoder.ts";

/** A byte-fallback vocabulary like the test models': token id = byte value. */
const bytesDetokenize = (tokens: readonly Token[]) => new TextDecoder().decode(Uint8Array.from(tokens));
const tokensOf = (text: string) => [...new TextEncoder().encode(text)] as Token[];

describe("PieceDecoder", () => {
  it("never splits a multi-byte character across pieces", () => {
    const decoder = new PieceDecoder(bytesDetokenize);
    const pieces = tokensOf("a€😀b").map((t) => decoder.push(t));
    // "€" is 3 bytes and "😀" 4: they come out whole, on their last byte.
    expect(pieces).toEqual(["a", "", "", "€", "", "", "", "😀", "b"]);
    expect(decoder.flush()).toBe("");
  });

  it("gives up holding after 4 bytes, and flushes an unfinished character at the end", () => {
    const decoder = new PieceDecoder(bytesDetokenize);
    const invalid = [0xff, 0xff, 0xff, 0xff] as Token[];
    expect(invalid.map((t) => decoder.push(t)).join("")).toBe("\uFFFD".repeat(4));
    decoder.push(0xe2 as Token);
    expect(decoder.flush()).toBe("\uFFFD");
  });

  it("hands the detokenizer the tokens before the new ones", () => {
    const seen: number[][] = [];
    const decoder = new PieceDecoder((tokens, last) => {
      seen.push([...last]);
      return bytesDetokenize(tokens);
    });
    for (const t of tokensOf("hello")) decoder.push(t);
    expect(seen.at(-1)).toEqual(tokensOf("hell"));
  });
});
