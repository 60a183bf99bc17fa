/**
 * The known key a typo most likely meant (`thread` -> `threads`,
 * `context_size` -> `contextSize`), or undefined when none is close.
 */
export function closestKey(typo: string, keys: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  let best: { key: string; distance: number } | undefined;
  for (const key of keys) {
    const distance = editDistance(plain(typo), plain(key));
    if (!best || distance < best.distance) best = { key, distance };
  }
  // Two edits catch a missing letter or a swap without suggesting unrelated short words.
  return best && best.distance <= 2 ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
