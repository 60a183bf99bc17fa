import { setTimeout as sleep } from "node:timers/promises";
import type { WireError } from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanUp, isChunk, isDoneOf, isHello, job, mentions, setup } from "./donor-link-fixtures.ts";
import { HOLD, HoldingEngine } from "./holding-engine.ts";
import { WAIT_MS } from "./wakeups.ts";

// Losing the edge: a dropped socket (reconnect, the job in hand aborted) and a fatal refusal (no reconnect).
afterEach(cleanUp);

describe("DonorLink", { timeout: 15_000 }, () => {
  it("aborts the job in hand when the edge drops it, reconnects, and sends nothing of that job on the new socket", async () => {
    const engine = new HoldingEngine();
    const { link, states, waitForState, join } = await setup({ engine });
    const first = await join(0, "node_tab1");
    first.send(job("j-held", HOLD));
    await first.waitFor(isChunk);
    expect(link.session.activeJobs).toBe(1);

    const from = states.length;
    first.socket.terminate();
    // partysocket has already scheduled attempt 1 when it reports the close.
    expect(await waitForState("connecting", from)).toEqual({ state: "connecting", attempt: 1 });
    await vi.waitFor(() => expect(link.session.activeJobs).toBe(0), { timeout: WAIT_MS });
    expect(engine.aborted).toBe(1);

    const second = await join(1, "node_tab2");
    expect(second.frames.filter(isHello)).toHaveLength(1);
    expect(states.slice(from).map((s) => s.state)).toEqual(["connecting", "connecting", "joined"]);
    expect(states.slice(from).filter((s) => s.state === "connecting")).toEqual([
      { state: "connecting", attempt: 1 },
      { state: "connecting", attempt: 1 },
    ]);

    // The edge has failed j-held over to another node; its job-error, sent while disconnected, was dropped, not queued.
    second.send(job("j-next", "fresh job"));
    await second.waitFor(isDoneOf("j-next"));
    expect(second.frames.filter(mentions("j-held"))).toEqual([]);
    expect(second.badFrames).toEqual([]);
  });

  it("ends on a fatal error from the edge and does not reconnect", async () => {
    const engine = new HoldingEngine();
    const { edge, link, states, waitForState, join } = await setup({ engine });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-refused", HOLD));
    await conn.waitFor(isChunk);
    // The aborted job's job-error goes to a closed socket; partysocket warns about that.
    vi.spyOn(console, "warn").mockImplementation(() => {});

    const error: WireError = { code: "trust_mismatch", message: "this entrance only takes public nodes", retryable: false };
    // Unlike the real edge, this one leaves the socket open: the tab must close it itself.
    conn.send({ type: "error", fatal: true, error });
    expect(await waitForState("refused")).toEqual({ state: "refused", error });
    expect(await conn.closed()).toBe(1000);
    await vi.waitFor(() => expect(link.session.activeJobs).toBe(0), { timeout: WAIT_MS });

    // A reconnect would come within 0.5 s plus up to 1 s of random wait.
    await sleep(1_500);
    expect(edge.connections).toHaveLength(1);
    expect(states.at(-1)).toEqual({ state: "refused", error });
  });
});
