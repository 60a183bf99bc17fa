import { EngineError, type GeneratedPiece, type GenerationResult } from "@rung/shared/node";
import { describe, expect, it } from "vitest";
import { ToolCallOutput } from "../src/engines/tool-call-output.ts";

const ended = (finishReason: GenerationResult["finishReason"]): GenerationResult => ({
  finishReason,
  usage: { promptTokens: 10, completionTokens: 20 },
});

/** A call the grammar wrote, piece by piece, then how generation ended. */
function finishCall(text: string, finishReason: GenerationResult["finishReason"]): { result: GenerationResult; pieces: GeneratedPiece[] } {
  const pieces: GeneratedPiece[] = [];
  const output = new ToolCallOutput({ kind: "tool-call" } as ConstructorParameters<typeof ToolCallOutput>[0], (piece) =>
    pieces.push(piece),
  );
  for (const character of text) output.push({ text: character, confidence: 0.9 });
  return { result: output.finish(ended(finishReason)), pieces };
}

describe("ToolCallOutput", () => {
  it("returns a whole call with finish reason tool_calls, and no text on the way", () => {
    const { result, pieces } = finishCall('{"name": "get_time", "arguments": {"zone": "UTC"}}', "stop");
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls).toMatchObject([{ name: "get_time", arguments: '{"zone":"UTC"}' }]);
    expect(pieces.every((p) => p.text === "")).toBe(true);
  });

  it("sends each held piece's margin and entropy with its empty text, as its confidence", () => {
    const pieces: GeneratedPiece[] = [];
    const output = new ToolCallOutput({ kind: "tool-call" } as ConstructorParameters<typeof ToolCallOutput>[0], (piece) =>
      pieces.push(piece),
    );
    output.push({ text: "{", confidence: 0.9, margin: 0.7, entropy: 0.2 });
    expect(pieces).toEqual([{ text: "", confidence: 0.9, margin: 0.7, entropy: 0.2 }]);
  });

  it("ends a call max_tokens cut short with finish reason length and the arguments as far as they got, as OpenAI does", () => {
    const { result } = finishCall('{"name": "get_time", "arguments": {"zone": "U', "length");
    expect(result.finishReason).toBe("length");
    expect(result.toolCalls).toMatchObject([{ name: "get_time", arguments: '{"zone": "U' }]);
    expect(result.toolCalls![0]!.id).toMatch(/^call_/);
  });

  it("ends with length and no call when even the name was cut", () => {
    const { result } = finishCall('{"name": "get_t', "length");
    expect(result).toEqual(ended("length"));
  });

  it("still fails a finished call that is not JSON: that is the node's fault, not the client's", () => {
    expect(() => finishCall('{"name": "get_time", "arguments": {', "stop")).toThrow(EngineError);
  });
});
