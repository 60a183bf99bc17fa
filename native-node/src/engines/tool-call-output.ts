import { randomBytes } from "node:crypto";
import { EngineError, type GeneratedPiece, type GenerationResult } from "@rung/shared/node";
import { FinishReason, type ToolCall } from "@rung/shared/protocol";
import type { AnswerShape } from "./answer-shape.ts";

/**
 * Routes the generated pieces of one answer: text streams on; a function call
 * is held (the edge must not relay it as content) and comes back whole in the
 * result. Held pieces still go out with empty text, so the edge sees every
 * token's confidence and the stream commits as early as a text answer would.
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
    this.onPiece({ text: "", confidence: piece.confidence });
  }

  /** The result with the call parsed; a call cut off by `maxTokens` is an error, since its arguments are not JSON. */
  finish(result: GenerationResult): GenerationResult {
    if (this.#mode !== "call") return result;
    let call: { name: string; arguments: unknown };
    try {
      call = JSON.parse(this.#call) as typeof call;
    } catch {
      const why =
        result.finishReason === FinishReason.length
          ? "max_tokens ended the function call before it was complete"
          : "the function call is not valid JSON";
      throw new EngineError("incomplete_tool_call", why, false);
    }
    const toolCall: ToolCall = {
      id: `call_${randomBytes(12).toString("base64url")}`,
      name: call.name,
      arguments: JSON.stringify(call.arguments),
    };
    return { ...result, finishReason: FinishReason.toolCalls, toolCalls: [toolCall] };
  }
}
