import { afterEach, describe, expect, it } from "vitest";
import { chat, edgeStatus, model, nodeInStatus, putPolicy, resetPolicy, TestNode } from "./test-node.ts";

afterEach(async () => {
  await TestNode.closeAll();
  await resetPolicy();
});

const small = model("rung-small", 1_000_000, 512);
const large = model("rung-large", 9_000_000, 8192);
/** Requests waiting in the pool's queue for a free slot, as GET /v1/status shows them. */
const queued = async () => (await edgeStatus()).queued;

describe("routing", () => {
  it("sends auto to the smallest model and names it in the response", async () => {
    const big = await TestNode.join("big", [large]);
    const little = await TestNode.join("little", [small]);
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    expect(job.model).toBe("rung-small");
    little.answer(job, ["Hel", "lo"]);
    const response = await pending;
    expect(response.headers.get("x-rung-model")).toBe("rung-small");
    expect(response.headers.get("x-rung-node")).toBe("little");
    expect(await response.json()).toMatchObject({
      object: "chat.completion",
      model: "rung-small",
      choices: [{ message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      rung: { model: "rung-small", node: "little", attempts: [{ outcome: "answered" }] },
    });
    expect(big.received.filter((m) => m.type === "job")).toHaveLength(0);
  });

  it("skips models whose context cannot hold the request", async () => {
    await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto", messages: [{ role: "user", content: "x".repeat(4_000) }] });
    big.answer(await big.next("job"), ["ok"]);
    expect((await pending).headers.get("x-rung-model")).toBe("rung-large");
    const tooLong = await chat({ model: "auto", messages: [{ role: "user", content: "x".repeat(40_000) }] });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ error: { code: "context_length_exceeded" } });
  });

  it("pins a concrete model id, without climbing", async () => {
    const little = await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "rung-large" });
    big.answer(await big.next("job"), ["big"]);
    expect(((await (await pending).json()) as { model: string }).model).toBe("rung-large");
    expect(little.received.some((m) => m.type === "job")).toBe(false);
  });

  it("prefers the less loaded node of a model", async () => {
    const first = await TestNode.join("first", [small], 2);
    const second = await TestNode.join("second", [small], 2);
    const one = chat({ model: "auto" });
    const two = chat({ model: "auto" });
    // Two requests, two equal nodes: each node gets one job instead of one node getting both.
    const [a, b] = await Promise.all([first.next("job"), second.next("job")]);
    first.answer(a, ["a"]);
    second.answer(b, ["b"]);
    const nodes = await Promise.all([one, two].map(async (r) => (await r).headers.get("x-rung-node")));
    expect(nodes.sort()).toEqual(["first", "second"]);
  });

  it("queues a request while every capable node is busy and answers it once a slot frees", async () => {
    const node = await TestNode.join("single", [small], 1);
    const first = chat({ model: "auto" });
    const job = await node.next("job");
    const second = chat({ model: "auto" });
    // The second waits in the queue rather than being refused or sent to the full node.
    await expect.poll(queued).toBe(1);
    expect(node.received.filter((m) => m.type === "job")).toHaveLength(0);
    node.answer(job, ["first"]);
    node.answer(await node.next("job"), ["second"]);
    expect(((await (await second).json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("second");
    expect((await first).status).toBe(200);
    expect(await queued()).toBe(0);
  });

  it("serves a queued request on a node that joined after it", async () => {
    const busy = await TestNode.join("busy", [small], 1);
    const first = chat({ model: "auto" });
    const job = await busy.next("job");
    const second = chat({ model: "auto" });
    await expect.poll(queued).toBe(1);
    const newcomer = await TestNode.join("newcomer", [small], 1);
    newcomer.answer(await newcomer.next("job"), ["fresh"]);
    expect((await second).headers.get("x-rung-node")).toBe("newcomer");
    busy.answer(job, ["first"]);
    expect((await first).status).toBe(200);
  });

  it("answers 429 with Retry-After when the queue is full", async () => {
    expect((await putPolicy({ queue: { maxLength: 0 } })).status).toBe(200);
    const node = await TestNode.join("single", [small], 1);
    const first = chat({ model: "auto" });
    const job = await node.next("job");
    const second = await chat({ model: "auto" });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await second.json()).toMatchObject({ error: { type: "rate_limit_error", code: "nodes_busy" } });
    node.answer(job, ["done"]);
    expect((await first).status).toBe(200);
  });

  it("answers 429 when a queued request waited its longest", async () => {
    // Long enough for the test to see the request waiting on a busy machine, and shorter than
    // the test edge's 1 s token timeout, which would otherwise end the running job first.
    expect((await putPolicy({ queue: { maxWaitMs: 500 } })).status).toBe(200);
    const node = await TestNode.join("single", [small], 1);
    const first = chat({ model: "auto" });
    const job = await node.next("job");
    const waiting = chat({ model: "auto" });
    await expect.poll(queued).toBe(1);
    const second = await waiting;
    expect(second.status).toBe(429);
    expect(await queued()).toBe(0);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain("stayed busy for 0.5s");
    node.answer(job, ["done"]);
    expect((await first).status).toBe(200);
  });

  it("counts a model's own slots, not only the node's", async () => {
    expect((await putPolicy({ queue: { maxLength: 0 } })).status).toBe(200);
    const node = await TestNode.join("two-models", [model("rung-small", 1_000_000, 512, 1), model("rung-large", 9_000_000, 8192, 1)], 4);
    const first = chat({ model: "rung-small" });
    const job = await node.next("job");
    const second = await chat({ model: "rung-small" });
    expect(second.status).toBe(429);
    const other = chat({ model: "rung-large" });
    node.answer(await node.next("job"), ["large"]);
    expect((await other).status).toBe(200);
    node.answer(job, ["small"]);
    expect((await first).status).toBe(200);
  });

  it("routes around a draining node", async () => {
    const leaving = await TestNode.join("leaving", [small]);
    const staying = await TestNode.join("staying", [large]);
    leaving.send({ type: "draining" });
    await expect.poll(async () => nodeInStatus(await edgeStatus(), "rung-small", "leaving")?.draining).toBe(true);
    const pending = chat({ model: "auto" });
    staying.answer(await staying.next("job"), ["ok"]);
    const response = await pending;
    expect(response.headers.get("x-rung-node")).toBe("staying");
    // Never offered to the draining node: a job it left unanswered would also end on `staying`, later.
    expect(response.headers.get("x-rung-attempts")).toBe("1");
    expect(leaving.received.filter((m) => m.type === "job")).toEqual([]);
  });
});
