import { describe, expect, it } from "vitest";
import { rungOrder } from "../../routing/rung-order.ts";

const fresh = { rungCount: 4, startIndex: 1, floor: 1, climbs: 0, errors: 0 };

describe("rungOrder", () => {
  it("goes from the floor up, so a busy rung spills over to a larger one", () => {
    expect(rungOrder(fresh)).toEqual([1, 2, 3]);
  });

  it("adds the rungs below the start, nearest first, once something failed", () => {
    expect(rungOrder({ ...fresh, startIndex: 2, floor: 2, errors: 1 })).toEqual([2, 3, 1, 0]);
  });

  it("never falls back below the start after a climb: the weak answer came from there", () => {
    expect(rungOrder({ ...fresh, floor: 2, climbs: 1, errors: 3 })).toEqual([2, 3]);
  });

  it("has no fallbacks when the request starts on the smallest rung", () => {
    expect(rungOrder({ ...fresh, startIndex: 0, floor: 0, errors: 2 })).toEqual([0, 1, 2, 3]);
  });

  it("is empty once the floor is past the top rung and nothing failed", () => {
    expect(rungOrder({ ...fresh, floor: 4, climbs: 1 })).toEqual([]);
  });
});
