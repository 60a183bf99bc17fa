/**
 * The edge cannot tokenize for every model, so routing uses an estimate:
 * about four UTF-8 bytes a token for common BPE vocabularies, plus a few tokens
 * of chat-template framing per message. The node that runs the job counts
 * exactly and refuses with a retryable `context_length_exceeded` when the
 * estimate was short, so the request moves on to a larger context.
 */
export function estimateTokens(texts: readonly string[]): number {
  const encoder = new TextEncoder();
  let tokens = 0;
  for (const text of texts) tokens += Math.ceil(encoder.encode(text).length / 4) + 4;
  return tokens;
}
