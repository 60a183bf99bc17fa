/**
 * The median of the values that are known (undefined ones left out); `none`
 * when nothing is known. Unmeasured nodes and rungs count as this, so they
 * neither win nor lose by default.
 */
export function medianOfKnown(values: readonly (number | undefined)[], none: number): number {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return none;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[middle]! : (known[middle - 1]! + known[middle]!) / 2;
}
