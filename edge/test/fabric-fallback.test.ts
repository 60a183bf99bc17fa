import { afterEach, describe, expect, it } from "vitest";
import { MAX_EARLY_CHUNKS } from "../src/fabric/job-run.ts";
import { chat, model, sseData, TestNode } from "./test-node.ts";

afterEach(() => TestNode.closeAll());

const small = model("rung-small", 1_000_000);
const large = model("rung-large", 9_000_000);

describe("fallback before the answer commits", () => {
  it("moves on when a node reports a retryable error", async () => {
    const little = await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    little.send({ type: "job-error", jobId: job.jobId, error: { code: "engine_failure", message: "boom", retryable: true } });
    big.answer(await big.next("job"), ["rescued"]);
    const response = await pending;
    expect(response.headers.get("x-rung-attempts")).toBe("2");
    const body = (await response.json()) as {
      rung: { attempts: { outcome: string; node: string }[] };
      choices: { message: { content: string } }[];
    };
    expect(body.choices[0]?.message.content).toBe("rescued");
    expect(body.rung.attempts.map((a) => `${a.node}:${a.outcome}`)).toEqual(["little:engine_failure", "big:answered"]);
  });

  it("moves on when the node disconnects before its first token", async () => {
    const little = await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto", stream: true });
    await little.next("job");
    little.close();
    big.answer(await big.next("job"), ["still ", "here"]);
    const data = await sseData(await pending);
    expect(data.at(-1)).toBe("[DONE]");
    const text = data
      .slice(0, -1)
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
      .join("");
    expect(text).toBe("still here");
  });

  it("replaces a node that dies halfway through a whole (non-streamed) answer", async () => {
    const little = await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    little.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "half", confidence: 0.5 });
    little.close();
    big.answer(await big.next("job"), ["whole"]);
    const body = (await (await pending).json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body).toMatchObject({ model: "rung-large", choices: [{ message: { content: "whole" } }] });
  });

  it("tries the next node when the first token is too slow, and cancels the slow one", async () => {
    const slow = await TestNode.join("slow", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await slow.next("job");
    const rescue = await big.next("job", 2_000);
    expect((await slow.next("cancel")).jobId).toBe(job.jobId);
    // A late answer from the abandoned attempt must not leak into the response.
    slow.answer(job, ["late"]);
    big.answer(rescue, ["fast"]);
    const body = (await (await pending).json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("fast");
  });

  it("replaces a node that falls silent halfway through a whole answer", async () => {
    const stalling = await TestNode.join("stalling", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await stalling.next("job");
    stalling.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "and then", confidence: 0.99 });
    big.answer(await big.next("job", 2_000), ["complete"]);
    const body = (await (await pending).json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("complete");
  });

  it("drops a node that piles up chunks past a gap, instead of holding them all", async () => {
    const hoarder = await TestNode.join("hoarder", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await hoarder.next("job");
    for (let seq = 1; seq <= MAX_EARLY_CHUNKS + 1; seq++)
      hoarder.send({ type: "chunk", jobId: job.jobId, seq, text: "x", confidence: 0.99 });
    big.answer(await big.next("job"), ["ok"]);
    const body = (await (await pending).json()) as { rung: { attempts: { outcome: string }[] } };
    expect(body.rung.attempts[0]?.outcome).toBe("sequence_gap");
  });

  it("answers 504 when no node produces a first token in time", async () => {
    const slow = await TestNode.join("slow", [small]);
    const response = await chat({ model: "auto" });
    expect(slow.received.some((m) => m.type === "job")).toBe(true);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { type: "timeout_error", code: "timeout" } });
  });

  it("fails with 502 on a non-retryable node error instead of trying others", async () => {
    const little = await TestNode.join("little", [small]);
    const big = await TestNode.join("big", [large]);
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    little.send({ type: "job-error", jobId: job.jobId, error: { code: "invalid_input", message: "cannot render", retryable: false } });
    const response = await pending;
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_input" } });
    expect(big.received.some((m) => m.type === "job")).toBe(false);
  });
});

describe("after the answer commits", () => {
  it("lets a stream run past the commit deadline while tokens keep coming", async () => {
    const node = await TestNode.join("steady", [small]);
    const pending = chat({ model: "auto", stream: true });
    const job = await node.next("job");
    // The test edge's commit deadline is 3 s and its silence limit 1 s: stream a token
    // every 0.1 s (wide of the limit on a busy machine) for 3.3 s.
    const chunks = 33;
    for (let seq = 0; seq < chunks; seq++) {
      node.send({ type: "chunk", jobId: job.jobId, seq, text: `${seq} `, confidence: 0.99 });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    node.send({ type: "done", jobId: job.jobId, chunks, finishReason: "stop", usage: { promptTokens: 1, completionTokens: chunks } });
    const data = await sseData(await pending);
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.filter((d) => d.includes('"error"'))).toEqual([]);
  });

  it("ends a stream whose node falls silent with an error event", async () => {
    const node = await TestNode.join("quiet", [small]);
    const pending = chat({ model: "auto", stream: true });
    const job = await node.next("job");
    node.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "hm", confidence: 0.99 });
    const data = await sseData(await pending);
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ error: { code: "timeout" } });
    expect((await node.next("cancel")).jobId).toBe(job.jobId);
  });

  it("ends a broken stream with an error event and [DONE]", async () => {
    const little = await TestNode.join("little", [small]);
    const pending = chat({ model: "auto", stream: true });
    const job = await little.next("job");
    little.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "par", confidence: 0.99 });
    const response = await pending;
    expect(response.status).toBe(200);
    little.close();
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ error: { code: "node_disconnected" } });
  });
});
