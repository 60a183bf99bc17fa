import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { chat, model, sseData, TestNode } from "./test-node.ts";

afterEach(() => TestNode.closeAll());

const small = model("rung-small", 1_000_000);

describe("streaming", () => {
  it("streams chat chunks, then usage when asked, then [DONE]", async () => {
    const node = await TestNode.join("streamer", [small]);
    const pending = chat({ model: "auto", stream: true, stream_options: { include_usage: true } });
    const job = await node.next("job");
    node.answer(job, ["One ", "two ", "three"]);
    const response = await pending;
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const data = await sseData(response);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks[0]).toMatchObject({ object: "chat.completion.chunk", model: "rung-small", choices: [{ delta: { role: "assistant" } }] });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("One two three");
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } });
    // As OpenAI does: every chunk before the usage chunk says `usage: null`.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("explains the answer in the closing chunk when no usage chunk was asked for", async () => {
    const node = await TestNode.join("streamer", [small]);
    const pending = chat({ model: "auto", stream: true });
    node.answer(await node.next("job"), ["Hi"]);
    const chunks = (await sseData(await pending)).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: "stop" }],
      rung: { model: "rung-small", node: "streamer", escalations: 0, attempts: [{ outcome: "answered" }] },
    });
    expect(chunks.slice(0, -1).some((c) => "rung" in c)).toBe(false);
  });

  it("serves /v1/completions, whole and streamed, with OpenAI's default of 16 tokens", async () => {
    const node = await TestNode.join("completer", [small]);
    const post = (body: Record<string, unknown>) =>
      SELF.fetch("http://edge/v1/completions", { method: "POST", body: JSON.stringify({ model: "auto", prompt: "Once", ...body }) });
    const whole = post({});
    const job = await node.next("job");
    expect(job.input).toEqual({ kind: "completion", prompt: "Once" });
    expect(job.sampling.maxTokens).toBe(16);
    node.answer(job, [" upon", " a time"]);
    expect(await (await whole).json()).toMatchObject({
      object: "text_completion",
      model: "rung-small",
      choices: [{ text: " upon a time", finish_reason: "stop" }],
    });
    const streamed = post({ stream: true, max_tokens: 5 });
    node.answer(await node.next("job"), [" upon"]);
    const data = await sseData(await streamed);
    expect(JSON.parse(data[0]!)).toMatchObject({ object: "text_completion", choices: [{ text: " upon" }] });
    expect(data.at(-1)).toBe("[DONE]");
  });

  it("tells the node to stop when the client hangs up before the answer commits", async () => {
    const node = await TestNode.join("forsaken", [small]);
    const hangUp = new AbortController();
    const pending = chat({ model: "auto" }, {}, hangUp.signal).catch((error: unknown) => error);
    const job = await node.next("job");
    hangUp.abort();
    await pending;
    // Keep the node busy and talking, so only the hang-up can explain a cancel.
    let seq = 0;
    const talking = setInterval(() => node.send({ type: "chunk", jobId: job.jobId, seq: seq++, text: "working", confidence: 0.99 }), 100);
    try {
      expect((await node.next("cancel")).jobId).toBe(job.jobId);
    } finally {
      clearInterval(talking);
    }
  });

  it("tells the node to stop when the client goes away mid-stream", async () => {
    const node = await TestNode.join("abandoned", [small]);
    const response = await (async () => {
      const pending = chat({ model: "auto", stream: true });
      const job = await node.next("job");
      node.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "start", confidence: 0.99 });
      return { response: await pending, job };
    })();
    await response.response.body?.cancel();
    expect((await node.next("cancel", 1_000)).jobId).toBe(response.job.jobId);
  });
});
