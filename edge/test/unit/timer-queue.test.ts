import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TimerQueue } from "../../src/fabric/timer-queue.ts";

describe("TimerQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires each timer once, when it is due, in order of due time and then of setting", () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    queue.set(30, () => fired.push("c"));
    queue.set(10, () => fired.push("a"));
    queue.set(20, () => fired.push("b1"));
    queue.set(20, () => fired.push("b2"));
    vi.advanceTimersByTime(9);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["a"]);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual(["a", "b1", "b2", "c"]);
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual(["a", "b1", "b2", "c"]);
    expect(queue.size).toBe(0);
  });

  it("keeps one runtime timer however many are set, and re-arms only for an earlier one", () => {
    const queue = new TimerQueue();
    for (let i = 0; i < 50; i++) queue.set(1_000 + i, () => {});
    expect(vi.getTimerCount()).toBe(1);
    const fired: number[] = [];
    queue.set(5, () => fired.push(5));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5);
    expect(fired).toEqual([5]);
    expect(queue.size).toBe(50);
  });

  it("never fires a cancelled timer, and cancelling twice or after firing does nothing", () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    const a = queue.set(10, () => fired.push("a"));
    const b = queue.set(10, () => fired.push("b"));
    a.cancel();
    a.cancel();
    expect(queue.size).toBe(1);
    vi.advanceTimersByTime(10);
    b.cancel();
    expect(fired).toEqual(["b"]);
    expect(queue.size).toBe(0);
  });

  it("holds no runtime timer once every timer is cancelled, so an idle pool may hibernate", () => {
    const queue = new TimerQueue();
    const a = queue.set(120_000, () => {});
    const b = queue.set(30_000, () => {});
    expect(vi.getTimerCount()).toBe(1);
    b.cancel();
    expect(vi.getTimerCount()).toBe(1);
    a.cancel();
    expect(vi.getTimerCount()).toBe(0);
    expect(queue.size).toBe(0);
  });

  it("lets a firing timer cancel one due at the same moment", () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    let second: { cancel(): void } | undefined;
    queue.set(10, () => {
      fired.push("first");
      second?.cancel();
    });
    second = queue.set(10, () => fired.push("second"));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(["first"]);
  });

  it("runs a timer set while others fire on a later turn, even at zero delay", () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    queue.set(10, () => {
      fired.push("outer");
      queue.set(0, () => fired.push("inner"));
    });
    queue.set(10, () => fired.push("sibling"));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(["outer", "sibling"]);
    // The fake clock gives a zero-delay timer set while it runs timers one millisecond.
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["outer", "sibling", "inner"]);
  });

  it("goes on with the others when one throws, and the error surfaces", () => {
    const queue = new TimerQueue();
    const fired: string[] = [];
    queue.set(10, () => {
      throw new Error("boom");
    });
    queue.set(10, () => fired.push("after"));
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(["after"]);
    // Rethrown from a timer of its own, which the fake clock throws from as it runs it.
    expect(() => vi.advanceTimersByTime(1)).toThrow("boom");
  });

  it("sheds cancelled timers as they pile up, and keeps the live ones", () => {
    const queue = new TimerQueue();
    const fired: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      const timer = queue.set(60_000 + i, () => fired.push(i));
      if (i % 100 !== 0) timer.cancel();
    }
    expect(queue.size).toBe(50);
    vi.advanceTimersByTime(70_000);
    expect(fired).toEqual(Array.from({ length: 50 }, (_, k) => k * 100));
  });
});
