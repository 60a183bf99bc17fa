import { randomBytes } from "node:crypto";
import { EngineError, type GeneratedPiece, type GenerationResult } from "@rung/shared/node";
import { FinishReason, type ToolCall } from "@rung/shared/protocol";
import type { AnswerShape } from "./answer-shape.ts";

/**
 * Routes the generated pieces of one answer: text streams on; a function call
 * is held (the edge must not relay it as content) and comes back whole in the
 * result. Held pieces still go out with empty text, so the edge sees every
 * token's confidence (and margin and entropy, when asked for) and the stream
 * commits as early as a text answer would.
 */
export class ToolCallOutput {
  #mode: "text" | "call" | "undecided";
  #call = "";

  constructor(
    shape: AnswerShape,
    private readonly onPiece: (piece: GeneratedPiece) => void,
  ) {
    this.#mode = shape.kind === "text" ? "text" : shape.kind === "tool-call" ? "call" : "undecided";
  }

  push(piece: GeneratedPiece): void {
    // Under `auto` the grammar lets only a call start with "{", so the first character decides.
    if (this.#mode === "undecided" && piece.text.length > 0) this.#mode = piece.text.startsWith("{") ? "call" : "text";
    if (this.#mode === "text") return this.onPiece(piece);
    this.#call += piece.text;
    this.onPiece({ ...piece, text: "" });
  }

  /**
   * The result with the call parsed. A call `maxTokens` cut short is the
   * client's limit, not a failure: as OpenAI does, it ends with finish reason
   * `length` and the call as far as it got (its arguments unfinished JSON; no
   * call when even its name was cut). Only a finished call that is not JSON is an error.
   */
  finish(result: GenerationResult): GenerationResult {
    if (this.#mode !== "call") return result;
    let call: { name: string; arguments: unknown };
    try {
      call = JSON.parse(this.#call) as typeof call;
    } catch {
      if (result.finishReason === FinishReason.length) return cutShort(result, this.#call);
      throw new EngineError("incomplete_tool_call", "the function call is not valid JSON", false);
    }
    return { ...result, finishReason: FinishReason.toolCalls, toolCalls: [toolCall(call.name, JSON.stringify(call.arguments))] };
  }
}

/** `{"name": "<name>", "arguments": <what came of them>`, as the grammar writes a call. */
const CALL_PREFIX = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*([\s\S]*)$/;

function cutShort(result: GenerationResult, held: string): GenerationResult {
  const match = CALL_PREFIX.exec(held);
  if (!match) return { ...result, finishReason: FinishReason.length };
  return { ...result, finishReason: FinishReason.length, toolCalls: [toolCall(JSON.parse(match[1]!) as string, match[2]!)] };
}

function toolCall(name: string, args: string): ToolCall {
  return { id: `call_${randomBytes(12).toString("base64url")}`, name, arguments: args };
}
