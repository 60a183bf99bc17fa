import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Ladder } from "../../src/fabric/job-run-host.ts";
import { escalation, events, FakeHost, fabricJob, frames, outcomes, start, type Trace, tick } from "./fake-host.ts";

// A verify-demanding key's run: a public node's answer is held until a second node answers the same.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const verifying = fabricJob({
  stream: false,
  sampling: { temperature: 0, topP: 1, stop: [] },
  caller: { keyId: "key_v", name: "v", pool: "main", tiers: ["private", "public"], limits: {}, verify: true },
});
const oneRung = (nodeIds: string[]): Ladder => ({
  rungs: [{ modelId: "m", nodeIds }],
  startIndex: 0,
  escalation,
  preRouted: [],
});

describe("JobRun with a key that demands verified answers", () => {
  it("asks a private node before another public one, and never asks the node whose answer is held, not even as a hedge", async () => {
    const host = new FakeHost().node("tab", ["m"], 2, "public").node("tab-2", ["m"], 1, "public").node("owned", ["m"], 1, "private");
    host.hedgeDelay = 10;
    const { run } = start(host, verifying, oneRung(["tab", "tab-2", "owned"]));
    expect(host.last.nodeId).toBe("tab");
    run.onFrame(frames("req_1.1").chunk("same", 0.99));
    run.onFrame(frames("req_1.1").done({ chunks: 1 }));
    await tick();
    expect(host.last.nodeId).toBe("owned");
    // The second opinion is slow to start: its hedge goes to the other tab, never back to the held one.
    await tick(10);
    expect(host.jobs.map((j) => j.nodeId)).toEqual(["tab", "owned", "tab-2"]);
    run.onFrame(frames("req_1.2").chunk("same", 0.99));
    run.onFrame(frames("req_1.2").done({ chunks: 1 }));
    const body = await events(await run.response);
    expect(body[0]).toEqual({ type: "delta", text: "same" });
    expect(outcomes((body[1] as unknown as { trace: Trace }).trace)).toEqual(["tab:held", "tab-2:hedge_lost", "owned:answered"]);
    expect(host.confirmations).toEqual([expect.objectContaining({ nodeId: "tab", referee: "owned", agreed: true, kind: "confirm" })]);
  });

  it("asks a third node when two public ones disagree, and commits what the private one says", async () => {
    const host = new FakeHost().node("tab", ["m"], 1, "public").node("tab-2", ["m"], 1, "public").node("owned", ["m"], 1, "private");
    host.nodes.get("owned")!.busy = 1;
    const { run } = start(host, verifying, oneRung(["tab", "tab-2", "owned"]));
    run.onFrame(frames("req_1.1").chunk("lie", 0.99));
    run.onFrame(frames("req_1.1").done({ chunks: 1 }));
    await tick();
    // The private node is busy: the other tab gives the second opinion, and disagrees.
    expect(host.last.nodeId).toBe("tab-2");
    host.nodes.get("owned")!.busy = 0;
    run.onFrame(frames("req_1.2").chunk("truth", 0.99));
    run.onFrame(frames("req_1.2").done({ chunks: 1 }));
    await tick(100);
    expect(host.last.nodeId).toBe("owned");
    run.onFrame(frames("req_1.3").chunk("truth", 0.99));
    run.onFrame(frames("req_1.3").done({ chunks: 1 }));
    const body = await events(await run.response);
    expect(body[0]).toEqual({ type: "delta", text: "truth" });
    expect(host.confirmations).toEqual([
      expect.objectContaining({ nodeId: "tab", answer: "lie", expected: "truth", referee: "owned", agreed: false }),
    ]);
  });

  it("commits a private node's answer at once: only public answers wait", async () => {
    const host = new FakeHost().node("owned", ["m"], 1, "private");
    const { run } = start(host, verifying, oneRung(["owned"]));
    run.onFrame(frames("req_1.1").chunk("mine", 0.99));
    run.onFrame(frames("req_1.1").done({ chunks: 1 }));
    expect((await events(await run.response))[0]).toEqual({ type: "delta", text: "mine" });
    expect(host.jobs).toHaveLength(1);
  });
});
