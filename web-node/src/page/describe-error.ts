/**
 * A failure as the donor reads it. Engine errors already say what happened in
 * plain words (the code is for the edge and for recovery), so this only makes
 * a sentence of them.
 */
export function describeError(error: { message: string }): string {
  const text = error.message.trim().replace(/[.\s]+$/, "");
  return text ? `${text[0]!.toUpperCase()}${text.slice(1)}.` : "Something went wrong in this tab.";
}
