import { PROTOCOL_VERSION } from "@rung/shared/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanUp, isChunk, isDoneOf, isHeartbeat, isHello, job, MODEL, setup } from "./donor-link-fixtures.ts";
import { WAIT_MS } from "./wakeups.ts";

// Joining the edge and serving it: hello, welcome, jobs answered, frames it cannot read ignored.
afterEach(cleanUp);

describe("DonorLink", { timeout: 15_000 }, () => {
  it("says hello as a public browser node and reports joined once welcomed", async () => {
    const { edge, states, waitForState } = await setup({ link: { pingIntervalMs: 50, heartbeatIntervalMs: 50 } });
    const conn = await edge.connection(0);
    const hello = await conn.waitFor(isHello);
    expect(hello).toMatchObject({
      protocol: PROTOCOL_VERSION,
      node: { name: "tab-test", kind: "browser", trust: "public", engine: "echo", slots: 1 },
      models: [{ id: MODEL.id }],
    });
    expect(states).toEqual([{ state: "connecting", attempt: 0 }]);

    conn.send({ type: "welcome", nodeId: "node_tab1", protocol: "1.3" });
    expect(await waitForState("joined")).toEqual({ state: "joined", nodeId: "node_tab1" });
    // A 1.3 edge takes heartbeats; pings keep the socket alive and are answered without a frame.
    expect(await conn.waitFor(isHeartbeat)).toMatchObject({ activeJobs: 0 });
    await vi.waitFor(() => expect(conn.pings).toBeGreaterThan(0), { timeout: WAIT_MS });
    expect(conn.badFrames).toEqual([]);
  });

  it("answers a job with numbered chunks and done", async () => {
    const { join } = await setup();
    const conn = await join(0, "node_tab1");

    conn.send(job("j1", "one two three"));
    const done = await conn.waitFor(isDoneOf("j1"));
    const chunks = conn.frames.filter(isChunk);
    expect(chunks.map((c) => [c.jobId, c.seq, c.text])).toEqual([
      ["j1", 0, "one "],
      ["j1", 1, "two "],
      ["j1", 2, "three"],
    ]);
    expect(done).toMatchObject({ chunks: 3, finishReason: "stop", usage: { completionTokens: 3 } });
    expect(conn.badFrames).toEqual([]);
  });

  it("ignores frames it cannot read and keeps serving", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { states, join } = await setup();
    const conn = await join(0, "node_tab1");
    const joinedAt = states.length;

    conn.socket.send("not json");
    conn.socket.send(JSON.stringify({ type: "job", jobId: "" }));
    conn.socket.send(Buffer.from([1, 2, 3]));
    conn.send(job("j-after", "still here"));
    await conn.waitFor(isDoneOf("j-after"));

    expect(warn.mock.calls.filter(([line]) => String(line).startsWith("ignoring a frame from the edge"))).toHaveLength(2);
    expect(states.slice(joinedAt)).toEqual([]);
    expect(conn.frames.filter((f) => f.type === "job-error")).toEqual([]);
  });
});
