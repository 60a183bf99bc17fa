import { EchoEngine } from "@rung/shared/node";
import { WireErrorCode } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, isChunk, isDoneOf, isDraining, isJobErrorOf, job, MODEL, setup } from "./donor-link-fixtures.ts";
import { HOLD, HoldingEngine } from "./holding-engine.ts";
import { WAIT_MS } from "./wakeups.ts";

// close(): the job in hand finishes before the deadline, or is handed back after it.
afterEach(cleanUp);

describe("DonorLink", { timeout: 15_000 }, () => {
  it("close() lets the job in hand finish, then closes the socket", async () => {
    const engine = new EchoEngine({ models: [MODEL], pieceDelayMs: 30 });
    const { edge, link, states, join } = await setup({ engine });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-finish", "a b c d e f"));
    await conn.waitFor(isChunk);

    await link.close(WAIT_MS);
    expect(states.at(-1)).toEqual({ state: "closed" });
    expect(await conn.closed()).toBe(1000);
    const types = conn.frames.filter((f) => f.type !== "heartbeat").map((f) => f.type);
    expect(types.indexOf("draining")).toBeLessThan(types.indexOf("done"));
    expect(types.at(-1)).toBe("done");
    expect(conn.frames.find(isDoneOf("j-finish"))).toMatchObject({ chunks: 6, finishReason: "stop" });
    expect(states.filter((s) => s.state === "connecting")).toHaveLength(1);
    expect(edge.connections).toHaveLength(1);
  });

  it("close() hands back a job that outlives the deadline as a retryable draining error", async () => {
    const { link, states, join } = await setup({ engine: new HoldingEngine() });
    const conn = await join(0, "node_tab1");
    conn.send(job("j-stuck", HOLD));
    await conn.waitFor(isChunk);

    await link.close(100);
    expect(states.at(-1)).toEqual({ state: "closed" });
    await conn.closed();
    await conn.waitFor(isDraining, 0);
    const handedBack = await conn.waitFor(isJobErrorOf("j-stuck"), 0);
    expect(handedBack.error).toMatchObject({ code: WireErrorCode.draining, retryable: true });
    expect(conn.frames.indexOf(handedBack)).toBeGreaterThan(conn.frames.findIndex(isDraining));
    expect(conn.frames.some(isDoneOf("j-stuck"))).toBe(false);
  });
});
