import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { Announcement } from "../src/fabric/node-announcements.ts";
import { chat, edgeStatus, helloOf, model, nodeInStatus, TestNode } from "./test-node.ts";

afterEach(() => TestNode.closeAll());

const hardware = {
  backend: "cuda",
  devices: ["NVIDIA GeForce RTX 4090"],
  vramTotalBytes: 25_757_220_864,
  vramFreeBytes: 20_000_000_000,
  ramTotalBytes: 68_719_476_736,
  cpuCores: 16,
} as const;

/**
 * Frames of one socket are handled in order, but a request arrives by another path: wait until the
 * router sees the node serve the model at this speed, i.e. the object has handled the heartbeat.
 */
async function speedSeen(name: string, modelId: string, tokensPerSecond: number): Promise<void> {
  await expect.poll(async () => nodeInStatus(await edgeStatus(), modelId, name)?.tokensPerSecond).toBe(tokensPerSecond);
}

/** The announcement the edge stored for the node of this name. */
function stored(name: string): Promise<Announcement | undefined> {
  const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
  return runInDurableObject(stub, (_instance, state) =>
    [...state.storage.kv.list<Announcement>({ prefix: "node:" })].map(([, a]) => a).find((a) => a.node.name === name),
  );
}

describe("heartbeats", () => {
  it("update the speed the router sees: the faster node of a model gets the job when both are idle", async () => {
    const announcedFast = await TestNode.join("announced-fast", [{ ...model("rung-small", 1_000_000), tokensPerSecond: 200 }]);
    const measuredFast = await TestNode.join("measured-fast", [{ ...model("rung-small", 1_000_000), tokensPerSecond: 100 }]);

    // Before any heartbeat, the load-time speeds decide.
    const first = chat({ model: "rung-small" });
    announcedFast.answer(await announcedFast.next("job"), ["a"]);
    expect((await first).headers.get("x-rung-node")).toBe("announced-fast");

    announcedFast.send({ type: "heartbeat", activeJobs: 0, models: [{ id: "rung-small", tokensPerSecond: 40 }] });
    measuredFast.send({ type: "heartbeat", activeJobs: 0, models: [{ id: "rung-small", tokensPerSecond: 400 }] });
    await speedSeen("announced-fast", "rung-small", 40);
    await speedSeen("measured-fast", "rung-small", 400);

    const second = chat({ model: "rung-small" });
    measuredFast.answer(await measuredFast.next("job"), ["b"]);
    expect((await second).headers.get("x-rung-node")).toBe("measured-fast");
    expect(announcedFast.received.filter((m) => m.type === "job")).toHaveLength(0);
  });

  it("keep models they did not measure at their announced speed, and persist a real change", async () => {
    const node = await TestNode.join("two", [model("rung-small", 1_000_000), model("rung-large", 9_000_000)]);
    node.send({ type: "heartbeat", activeJobs: 1, models: [{ id: "rung-small", tokensPerSecond: 250 }] });
    await speedSeen("two", "rung-small", 250);
    expect((await stored("two"))?.models.map((m) => [m.id, m.tokensPerSecond])).toEqual([
      ["rung-small", 250],
      ["rung-large", 100],
    ]);
  });

  it("change the speed in memory but write storage only for a change of more than 10%", async () => {
    const node = await TestNode.join("steady", [model("rung-small", 1_000_000)]);
    node.send({ type: "heartbeat", activeJobs: 0, models: [{ id: "rung-small", tokensPerSecond: 105 }] });
    await speedSeen("steady", "rung-small", 105);
    const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
    const catalog = await runInDurableObject(stub, (instance) => instance.catalog());
    expect(catalog.map((m) => m.nodes[0]?.tokensPerSecond)).toEqual([105]);
    expect((await stored("steady"))?.models[0]?.tokensPerSecond).toBe(100);
  });

  it("write a slow drift once it adds up to more than 10% of what storage holds", async () => {
    const node = await TestNode.join("drifting", [model("rung-small", 1_000_000)]);
    for (const speed of [95, 91, 87]) {
      node.send({ type: "heartbeat", activeJobs: 0, models: [{ id: "rung-small", tokensPerSecond: speed }] });
      await speedSeen("drifting", "rung-small", speed);
    }
    expect((await stored("drifting"))?.models[0]?.tokensPerSecond).toBe(87);
  });

  it("are refused before hello like any other frame", async () => {
    const node = await TestNode.connect();
    node.send({ type: "heartbeat", activeJobs: 0, models: [] });
    const error = await node.next("error");
    expect(error).toMatchObject({ error: { code: "bad_frame" }, fatal: false });
  });
});

describe("hardware in hello", () => {
  it("is stored with the node's announcement", async () => {
    const node = await TestNode.connect();
    node.send({ ...helloOf("gpu-box", [model("rung-small", 1_000_000)]), hardware });
    await node.next("welcome");
    expect((await stored("gpu-box"))?.hardware).toEqual(hardware);
  });

  it("is optional: a 1.0 node without it still joins", async () => {
    const node = await TestNode.connect();
    node.send(helloOf("old-agent", [model("rung-small", 1_000_000)], 2, "1.0"));
    await node.next("welcome");
    const announcement = await stored("old-agent");
    expect(announcement?.node.slots).toBe(2);
    expect(announcement?.hardware).toBeUndefined();
  });
});
