import { describe, expect, it } from "vitest";
import { seededRandom } from "../../routing/seeded-random.ts";

const draws = (next: () => number, count: number) => Array.from({ length: count }, () => next());

describe("seededRandom", () => {
  it("gives the same numbers for the same seed", () => {
    expect(draws(seededRandom(7), 50)).toEqual(draws(seededRandom(7), 50));
  });

  it("is mulberry32: generated weights and evaluation baselines stay byte for byte what they were", () => {
    expect(draws(seededRandom(1), 3)).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    expect(draws(seededRandom(42), 3)).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it("gives other numbers for another seed", () => {
    expect(draws(seededRandom(1), 10)).not.toEqual(draws(seededRandom(2), 10));
  });

  it("stays in [0, 1) and spreads over it", () => {
    const values = draws(seededRandom(3), 10_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});
