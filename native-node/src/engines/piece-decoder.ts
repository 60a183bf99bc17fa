import type { Token } from "node-llama-cpp";

/** Detokenizes `tokens`; `lastTokens` are those before them, so leading spaces come out right. */
export type Detokenize = (tokens: readonly Token[], lastTokens: readonly Token[]) => string;

/** U+FFFD: what a UTF-8 decoder yields for an incomplete multi-byte character. */
const REPLACEMENT = "\uFFFD";
/** A UTF-8 character is at most 4 bytes, i.e. at most 4 byte tokens; past that a U+FFFD is real. */
const MAX_HELD_TOKENS = 4;
/** Tokens of context handed to the detokenizer; enough for its space heuristics. */
const CONTEXT_TOKENS = 8;

/**
 * Turns generated tokens into text without ever splitting a multi-byte UTF-8
 * character: byte-fallback vocabularies emit one byte per token, so a token can
 * end mid-character. Such tokens are held until the character completes.
 */
export class PieceDecoder {
  readonly #detokenize: Detokenize;
  readonly #held: Token[] = [];
  #context: Token[] = [];

  constructor(detokenize: Detokenize) {
    this.#detokenize = detokenize;
  }

  /** Add one token; returns the text it completes (possibly empty while a character is incomplete). */
  push(token: Token): string {
    this.#held.push(token);
    const text = this.#detokenize(this.#held, this.#context);
    if (text.endsWith(REPLACEMENT) && this.#held.length < MAX_HELD_TOKENS) return "";
    return this.#release(text);
  }

  /** Text still held at the end of generation, as the detokenizer renders it. */
  flush(): string {
    if (this.#held.length === 0) return "";
    return this.#release(this.#detokenize(this.#held, this.#context));
  }

  #release(text: string): string {
    this.#context = [...this.#context, ...this.#held].slice(-CONTEXT_TOKENS);
    this.#held.length = 0;
    return text;
  }
}
