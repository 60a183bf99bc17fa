import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptsOf, type LocalFabric, nodeOf, rungOf, startFabric, testModel } from "./harness/fabric.ts";
import { piecesDuring, timedStream } from "./harness/timed-stream.ts";

/**
 * The whole fabric with real parts: the edge in workerd, two rung-agent
 * processes on node-llama-cpp serving generated models of two sizes, and the
 * official openai client. rung-tiny (512-token context) is the smaller rung,
 * rung-small (4096) the larger.
 */
let fabric: LocalFabric;
let client: OpenAI;

beforeAll(async () => {
  const [tiny, small] = await Promise.all([testModel("tiny"), testModel("small")]);
  fabric = await startFabric({
    agents: [
      { name: "agent-tiny", models: [tiny] },
      { name: "agent-small", models: [small] },
    ],
  });
  client = fabric.client;
});

afterAll(() => fabric?.stop());

const hello = [{ role: "user" as const, content: "Hello there" }];
const profiles = ["auto:balanced", "auto:budget", "auto:long_context", "auto:quality", "auto:speed"];
/** Rung's own request field (other servers ignore it): answer where the ladder starts, never climb. */
const noClimbing = { rung: { escalate: false } } as Record<string, unknown>;

describe("the fabric, end to end", () => {
  it("lists auto and both models", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(["auto", ...profiles, "rung-small", "rung-tiny"]);
  });

  it("starts on the smallest model, and answers there when told not to climb", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: hello, max_tokens: 12, temperature: 0, ...noClimbing })
      .withResponse();
    expect(data.model).toBe("rung-tiny");
    expect(response.headers.get("x-rung-model")).toBe("rung-tiny");
    expect(response.headers.get("x-rung-node")).toBe("agent-tiny");
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it("is deterministic when greedy, and streams the same text it answers whole", async () => {
    const request = { model: "rung-small", messages: hello, max_tokens: 24, temperature: 0 } as const;
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.model).toBe("rung-small");
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      usage ??= chunk.usage;
    }
    expect(text).toBe(first.choices[0]?.message.content);
    expect(finish).toBe(first.choices[0]?.finish_reason);
    expect(usage?.completion_tokens).toBe(first.usage?.completion_tokens);
  });

  it("serves legacy completions, whole and streamed", async () => {
    const whole = await client.completions.create({
      model: "auto",
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
      ...noClimbing,
    });
    expect(whole.model).toBe("rung-tiny");
    expect(whole.choices[0]?.text.length).toBeGreaterThan(0);
    expect(whole.usage?.completion_tokens).toBeLessThanOrEqual(8);
    const stream = await client.completions.create({
      model: "auto",
      prompt: "Once upon a time",
      max_tokens: 8,
      temperature: 0,
      stream: true,
      ...noClimbing,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(whole.choices[0]?.text);
  });

  it("climbs to the larger model when only its context fits the prompt", async () => {
    // About 680 tokens by the edge's estimate: past rung-tiny's 512, short of pre-routing's long prompt.
    const longPrompt = `Summarise this. ${"The quick brown fox jumps over the lazy dog. ".repeat(60)}`;
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: longPrompt }], max_tokens: 8 })
      .withResponse();
    expect(data.model).toBe("rung-small");
    // One attempt: the edge skipped rung-tiny by its context. Had it tried it, the agent's
    // refusal (or a weak answer) would show here as a second attempt.
    expect(response.headers.get("x-rung-attempts")).toBe("1");
    const rung = rungOf(data);
    expect(attemptsOf(rung)).toEqual(["rung-small:agent-small:answered"]);
    expect(rung.preRouted ?? []).toEqual([]);
  });

  it("refuses bad input with a 400 the SDK raises as BadRequestError", async () => {
    const bad = client.chat.completions.create({ model: "auto", messages: hello, temperature: 9 });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ status: 400, param: "temperature" });
    const unknown = client.chat.completions.create({ model: "no-such-model", messages: hello });
    await expect(unknown).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("runs several jobs at once on one agent", async () => {
    // The agent gives each model 2 slots (context sequences) by default. 200 tokens take
    // a second or more here, while both streams start within a few hundred ms of each other.
    const request = { model: "rung-small", messages: hello, max_tokens: 200, temperature: 0 } as const;
    const [a, b] = await Promise.all([timedStream(client, request), timedStream(client, request)]);
    expect([a.node, b.node]).toEqual(["agent-small", "agent-small"]);
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    // Overlapped: each stream kept producing text while the other did.
    expect(piecesDuring(a, b)).toBeGreaterThan(10);
    expect(piecesDuring(b, a)).toBeGreaterThan(10);
  });

  it("answers with the other agent when one dies before its first token", async () => {
    // Freeze the small rung's agent so the job reaches it but no token can come back, then kill it
    // once the edge has dispatched the job there.
    const tinyAgent = fabric.agent("agent-tiny");
    tinyAgent.signal("SIGSTOP");
    const pending = client.chat.completions.create({ model: "auto", messages: hello, max_tokens: 8 }).withResponse();
    await expect.poll(async () => nodeOf(await fabric.status(), "rung-tiny", "agent-tiny")?.active, { timeout: 10_000 }).toBe(1);
    tinyAgent.signal("SIGKILL");
    const { data, response } = await pending;
    expect(data.model).toBe("rung-small");
    expect(response.headers.get("x-rung-attempts")).toBe("2");
    expect(attemptsOf(rungOf(data))).toEqual(["rung-tiny:agent-tiny:node_disconnected", "rung-small:agent-small:answered"]);
  });

  it("finishes a stream in flight when its agent is told to stop, then the agent exits cleanly", async () => {
    const stream = await client.chat.completions.create({
      model: "rung-small",
      messages: hello,
      max_tokens: 200,
      stream: true,
    });
    let text = "";
    let finish: string | null | undefined;
    let signalled = false;
    const smallAgent = fabric.agent("agent-small");
    for await (const chunk of stream) {
      if (!signalled) {
        smallAgent.signal("SIGTERM");
        signalled = true;
      }
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(finish).toMatch(/^(stop|length)$/);
    expect(text.length).toBeGreaterThan(0);
    expect(await smallAgent.exited).toBe(0);
    // With every agent gone, the edge says so in OpenAI's terms.
    const none = client.chat.completions.create({ model: "auto", messages: hello });
    await expect(none).rejects.toMatchObject({ status: 503 });
  });
});
