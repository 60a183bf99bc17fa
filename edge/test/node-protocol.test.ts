import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { Fabric } from "../src/fabric/fabric.ts";
import { chat, helloOf, model, TestNode } from "./test-node.ts";
import { wokenRegistry } from "./woken-registry.ts";

afterEach(() => TestNode.closeAll());

const small = model("rung-small", 1_000_000);

describe("node protocol", () => {
  it("answers a bad frame with a typed error and closes after repeated ones", async () => {
    const node = await TestNode.join("noisy", [small]);
    node.sendRaw("not json");
    const first = await node.next("error");
    expect(first).toMatchObject({ error: { code: "bad_frame", retryable: false }, fatal: false });
    node.send({ type: "chunk", jobId: "x", seq: -1, text: "", confidence: 2 });
    expect((await node.next("error")).error.message).toMatch(/invalid frame at seq/);
    for (let i = 0; i < 3; i++) node.sendRaw("[]");
    await node.next("error");
    await node.next("error");
    expect((await node.next("error")).fatal).toBe(true);
    await expect(node.next("welcome", 1_000)).rejects.toThrow(/closed/);
    // The edge is still up and serves other nodes.
    const healthy = await TestNode.join("healthy", [small]);
    const pending = chat({ model: "auto" });
    healthy.answer(await healthy.next("job"), ["fine"]);
    expect((await pending).status).toBe(200);
  });

  it("refuses a node of another major protocol version with a message it can print", async () => {
    const node = await TestNode.connect();
    node.send(helloOf("old", [small], 1, "2.0"));
    const refusal = await node.next("error");
    expect(refusal).toMatchObject({ fatal: true, error: { code: "protocol_version_unsupported" } });
    expect(refusal.error.message).toMatch(/speaks protocol 1\.\d+.*2\.0/);
  });

  it("refuses ids that could break a response header, and keeps serving", async () => {
    const node = await TestNode.connect();
    node.send(helloOf("sneaky", [model("bad\nid", 1_000)]));
    expect((await node.next("error")).error.message).toMatch(/printable ASCII/);
    expect((await chat({ model: "auto" })).status).toBe(503);
  });

  it("gives no job to a node that has not said hello", async () => {
    const silent = await TestNode.connect();
    silent.send({ type: "draining" });
    expect((await silent.next("error")).error.message).toMatch(/hello first/);
    expect((await chat({ model: "auto" })).status).toBe(503);
  });

  it("puts chunks that arrive out of order back in sequence", async () => {
    const node = await TestNode.join("shuffler", [small]);
    const pending = chat({ model: "auto" });
    const job = await node.next("job");
    const pieces = ["a", "b", "c", "d"];
    for (const seq of [2, 0, 3, 1]) node.send({ type: "chunk", jobId: job.jobId, seq, text: pieces[seq]!, confidence: 0.99 });
    node.send({ type: "done", jobId: job.jobId, chunks: 4, finishReason: "stop", usage: { promptTokens: 1, completionTokens: 4 } });
    const body = (await (await pending).json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("abcd");
  });

  it("holds done until missing chunks arrive", async () => {
    const node = await TestNode.join("late", [small]);
    const pending = chat({ model: "auto" });
    const job = await node.next("job");
    node.send({ type: "done", jobId: job.jobId, chunks: 2, finishReason: "length", usage: { promptTokens: 1, completionTokens: 2 } });
    node.send({ type: "chunk", jobId: job.jobId, seq: 1, text: "y", confidence: 0.99 });
    node.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "x", confidence: 0.99 });
    const body = (await (await pending).json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(body.choices[0]).toMatchObject({ message: { content: "xy" }, finish_reason: "length" });
  });

  it("forgets announcements of nodes whose sockets are gone", async () => {
    await TestNode.join("present", [small]);
    const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
    const keys = await runInDurableObject(stub, (_instance, state) => {
      state.storage.kv.put("node:node_ghost", { node: { name: "ghost" }, models: [] });
      // What the object does when it wakes.
      new Fabric(state, env);
      return [...state.storage.kv.list({ prefix: "node:" })].map(([key]) => key);
    });
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe("node:node_ghost");
  });

  it("rebuilds its registry from sockets and storage after the object wakes", async () => {
    await TestNode.join("survivor", [small, model("rung-large", 9_000_000)]);
    const stub = env.FABRIC.get(env.FABRIC.idFromName("main"));
    const views = await runInDurableObject(stub, (_instance, state) =>
      wokenRegistry(state)
        .views()
        .map((view) => ({ ...view })),
    );
    expect(views).toHaveLength(1);
    expect(views[0]).toMatchObject({ name: "survivor", slots: 2, active: 0, draining: false });
    expect(views[0]?.models.map((m) => m.id)).toEqual(["rung-small", "rung-large"]);
  });
});
