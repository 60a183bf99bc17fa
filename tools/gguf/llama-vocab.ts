/** The fixed SentencePiece-style vocabulary of every generated and trained test model: bytes, "▁" and the ChatML markers. */

/** Token ids of the fixed SentencePiece-style vocabulary. */
export const TOKENS = {
  unk: 0,
  bos: 1,
  eos: 2,
  /** `<0x00>` is id 3, so byte b is id 3 + b. */
  firstByte: 3,
  /** "▁" (U+2581): SentencePiece's space, needed so spaces round-trip. */
  space: 259,
  imStart: 260,
  imEnd: 261,
} as const;
export const VOCAB_SIZE = 262;

const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

export function buildVocab(): { tokens: string[]; types: Int32Array; scores: Float32Array } {
  const tokens = ["<unk>", "<s>", "</s>"];
  for (let b = 0; b < 256; b++) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  tokens.push("\u2581", "<|im_start|>", "<|im_end|>");

  const types = new Int32Array(tokens.length).fill(TOKEN_TYPE.BYTE);
  types[TOKENS.unk] = TOKEN_TYPE.UNKNOWN;
  types[TOKENS.bos] = TOKEN_TYPE.CONTROL;
  types[TOKENS.eos] = TOKEN_TYPE.CONTROL;
  types[TOKENS.space] = TOKEN_TYPE.NORMAL;
  types[TOKENS.imStart] = TOKEN_TYPE.CONTROL;
  types[TOKENS.imEnd] = TOKEN_TYPE.CONTROL;
  // Scores only rank SentencePiece merges; with a single mergeable piece any value works.
  return { tokens, types, scores: new Float32Array(tokens.length) };
}

/** Tokens the model is allowed to emit: printable ASCII bytes and "▁". */
export function isPrintable(id: number): boolean {
  const b = id - TOKENS.firstByte;
  return id === TOKENS.space || (b >= 0x20 && b <= 0x7e);
}
