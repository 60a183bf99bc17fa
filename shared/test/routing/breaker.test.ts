import { beforeEach, describe, expect, it } from "vitest";
import { BreakerBoard } from "../../routing/breaker.ts";

const OPEN_MS = 1000;

describe("BreakerBoard", () => {
  let clock = 0;
  let board: BreakerBoard;
  beforeEach(() => {
    clock = 10_000;
    board = new BreakerBoard({ failureThreshold: 3, openMs: OPEN_MS }, () => clock);
  });

  function fail(times: number, node = "n1", model = "m"): void {
    for (let i = 0; i < times; i++) board.onFailure(node, model);
  }

  it("starts closed and lets work through", () => {
    expect(board.state("n1", "m")).toBe("closed");
    expect(board.canDispatch("n1", "m")).toBe(true);
    expect(board.snapshot()).toEqual([]);
  });

  it("stays closed below the threshold and opens at it", () => {
    fail(2);
    expect(board.state("n1", "m")).toBe("closed");
    expect(board.canDispatch("n1", "m")).toBe(true);
    fail(1);
    expect(board.state("n1", "m")).toBe("open");
    expect(board.canDispatch("n1", "m")).toBe(false);
  });

  it("counts only consecutive failures: a success in between resets the count", () => {
    fail(2);
    board.onSuccess("n1", "m");
    fail(2);
    expect(board.state("n1", "m")).toBe("closed");
    fail(1);
    expect(board.state("n1", "m")).toBe("open");
  });

  it("keeps each node × model pair apart", () => {
    fail(3, "n1", "m");
    expect(board.canDispatch("n1", "other")).toBe(true);
    expect(board.canDispatch("n2", "m")).toBe(true);
  });

  it("refuses work until openMs has passed, then allows exactly one probe", () => {
    fail(3);
    clock += OPEN_MS - 1;
    expect(board.canDispatch("n1", "m")).toBe(false);
    clock += 1;
    expect(board.state("n1", "m")).toBe("half_open");
    expect(board.canDispatch("n1", "m")).toBe(true);
    board.onDispatch("n1", "m");
    expect(board.canDispatch("n1", "m")).toBe(false);
    expect(board.state("n1", "m")).toBe("half_open");
  });

  it("closes and forgets the failures when the probe succeeds", () => {
    fail(3);
    clock += OPEN_MS;
    board.onDispatch("n1", "m");
    board.onSuccess("n1", "m");
    expect(board.state("n1", "m")).toBe("closed");
    expect(board.canDispatch("n1", "m")).toBe(true);
    expect(board.snapshot()).toEqual([]);
    fail(2);
    expect(board.state("n1", "m")).toBe("closed");
  });

  it("reopens for another openMs when the probe fails", () => {
    fail(3);
    clock += OPEN_MS + 500;
    board.onDispatch("n1", "m");
    board.onFailure("n1", "m");
    expect(board.state("n1", "m")).toBe("open");
    clock += OPEN_MS - 1;
    expect(board.canDispatch("n1", "m")).toBe(false);
    clock += 1;
    expect(board.canDispatch("n1", "m")).toBe(true);
  });

  it("does not extend an open breaker for late failures of jobs sent before it opened", () => {
    fail(3);
    clock += 600;
    fail(1);
    clock += 400;
    expect(board.state("n1", "m")).toBe("half_open");
  });

  it("lets another probe through when the first never reported back within openMs", () => {
    fail(3);
    clock += OPEN_MS;
    board.onDispatch("n1", "m");
    clock += OPEN_MS - 1;
    expect(board.canDispatch("n1", "m")).toBe(false);
    clock += 1;
    expect(board.canDispatch("n1", "m")).toBe(true);
  });

  it("ignores dispatches while closed: they are not probes", () => {
    fail(1);
    board.onDispatch("n1", "m");
    expect(board.canDispatch("n1", "m")).toBe(true);
  });

  it("describes every failing pair in its snapshot", () => {
    fail(1, "n1", "a");
    fail(3, "n2", "b");
    clock += OPEN_MS;
    expect(board.snapshot()).toEqual([
      { nodeId: "n1", modelId: "a", state: "closed", consecutiveFailures: 1, openedAt: null, retryAt: null },
      { nodeId: "n2", modelId: "b", state: "half_open", consecutiveFailures: 3, openedAt: 10_000, retryAt: 11_000 },
    ]);
  });

  it("forgets a node's breakers when the node leaves", () => {
    fail(3, "n1", "a");
    fail(3, "n2", "a");
    board.forgetNode("n1");
    expect(board.state("n1", "a")).toBe("closed");
    expect(board.state("n2", "a")).toBe("open");
    expect(board.snapshot().map((e) => e.nodeId)).toEqual(["n2"]);
  });

  it("uses the real clock by default", () => {
    const real = new BreakerBoard({ failureThreshold: 1, openMs: 60_000 });
    real.onFailure("n", "m");
    const [entry] = real.snapshot();
    expect(Math.abs(entry!.openedAt! - Date.now())).toBeLessThan(1000);
  });
});
