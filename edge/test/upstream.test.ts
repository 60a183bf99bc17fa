import type { Chunk, Done, Job, JobError } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { UpstreamDispatcher, type UpstreamTarget } from "../src/fabric/transports/upstream/upstream-dispatcher.ts";
import { type UpstreamEntry, upstreamNodesOf, upstreamOf } from "../src/fabric/transports/upstream/upstream-nodes.ts";

type Frame = Chunk | Done | JobError;

/** A dispatcher whose frames are collected, with a wait for the job's last one. */
function harness(env: object = {}) {
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  const dispatcher = new UpstreamDispatcher(
    {
      onFrame: (nodeId, frame) => {
        expect(nodeId).toBe("upstream:cloud");
        frames.push(frame);
        for (const wake of waiters.splice(0)) wake();
      },
    },
    env,
  );
  const until = async (predicate: (frames: Frame[]) => boolean, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(frames)) {
      if (Date.now() > deadline) throw new Error(`no such frames within ${timeoutMs} ms: ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return frames;
  };
  const run = async (upstream: UpstreamTarget, job: Job) => {
    dispatcher.send("upstream:cloud", upstream, job);
    return until((f) => f.some((frame) => frame.type !== "chunk"));
  };
  return { dispatcher, frames, until, run };
}

const upstreamAt = (behaviour: string, extra: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  name: "cloud",
  baseUrl: `https://${behaviour}.upstream.test/v1/`,
  models: [{ id: "cloud-large", upstreamModel: "gpt-test" }],
  ...extra,
});

const chatJob = (extra: Partial<Job> = {}): Job => ({
  type: "job",
  jobId: "req_1.1",
  model: "cloud-large",
  input: { kind: "chat", messages: [{ role: "user", content: "Hello there" }] },
  sampling: { temperature: 0.2, topP: 0.9, stop: [] },
  ...extra,
});

const lastError = (frames: Frame[]) => {
  const last = frames.at(-1);
  if (last?.type !== "job-error") throw new Error(`expected a job-error, got ${JSON.stringify(last)}`);
  return last.error;
};

describe("an upstream's streamed answer", () => {
  it("becomes ordered chunk frames with confidence from logprobs, then a done with the upstream's usage", async () => {
    const frames = await harness().run(
      upstreamAt("stream", { models: [{ id: "cloud-large", capabilities: { logprobs: true } }] }),
      chatJob(),
    );
    expect(frames).toEqual([
      { type: "chunk", jobId: "req_1.1", seq: 0, text: "Hel", confidence: expect.closeTo(0.5, 6) },
      // Two tokens: their geometric mean, sqrt(0.9 × 0.4).
      { type: "chunk", jobId: "req_1.1", seq: 1, text: "lo", confidence: expect.closeTo(0.6, 6) },
      { type: "done", jobId: "req_1.1", chunks: 2, finishReason: "length", usage: { promptTokens: 11, completionTokens: 3 } },
    ]);
  });

  it("streams a legacy completion from /completions, counting usage when the upstream sends none", async () => {
    const job = chatJob({ input: { kind: "completion", prompt: "Once" } });
    const frames = await harness().run(upstreamAt("stream"), job);
    expect(frames.map((f) => (f.type === "chunk" ? [f.seq, f.text, f.confidence] : f.type))).toEqual([
      [0, "once", null],
      [1, " upon", null],
      "done",
    ]);
    expect(frames.at(-1)).toMatchObject({ finishReason: "stop", usage: { completionTokens: 2, promptTokens: expect.any(Number) } });
  });

  it("assembles tool-call deltas into the done frame's tool calls", async () => {
    const frames = await harness().run(upstreamAt("tools"), chatJob());
    expect(frames).toEqual([
      {
        type: "done",
        jobId: "req_1.1",
        chunks: 0,
        finishReason: "tool_calls",
        usage: expect.any(Object),
        toolCalls: [
          { id: "call_a", name: "get_weather", arguments: '{"city":"Oslo"}' },
          { id: "call_b", name: "get_time", arguments: "{}" },
        ],
      },
    ]);
  });
});

describe("the request an upstream receives", () => {
  const echoed = async (upstream: UpstreamTarget, job: Job, env: object = {}) => {
    const frames = await harness(env).run(upstream, job);
    const chunk = frames[0];
    if (chunk?.type !== "chunk") throw new Error(`expected the echo, got ${JSON.stringify(frames)}`);
    return JSON.parse(chunk.text) as { path: string; authorization: string | null; body: Record<string, unknown> };
  };

  it("is OpenAI's chat request for the upstream's model name, streamed with usage, carrying the key from the named secret", async () => {
    const job = chatJob({
      sampling: { maxTokens: 64, temperature: 0, topP: 1, stop: ["\n\n"], seed: 7 },
      input: {
        kind: "chat",
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_weather", arguments: "{}" }] },
          { role: "tool", content: "sunny", toolCallId: "c1" },
        ],
      },
      responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" } },
      tools: [{ name: "get_weather", parameters: { type: "object" } }],
      toolChoice: { name: "get_weather" },
    });
    const echo = await echoed(upstreamAt("echo", { keySecret: "CLOUD_KEY" }), job, { CLOUD_KEY: "sk-from-secret" });
    expect(echo.path).toBe("/v1/chat/completions");
    expect(echo.authorization).toBe("Bearer sk-from-secret");
    expect(echo.body).toEqual({
      model: "gpt-test",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      temperature: 0,
      top_p: 1,
      stop: ["\n\n"],
      seed: 7,
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }],
        },
        { role: "tool", content: "sunny", tool_call_id: "c1" },
      ],
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } },
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
  });

  it("carries no Authorization header when no key is configured, and the model id when no upstream name is", async () => {
    const echo = await echoed(upstreamAt("echo", { models: [{ id: "cloud-large" }] }), chatJob());
    expect(echo.authorization).toBeNull();
    expect(echo.body).toMatchObject({ model: "cloud-large" });
    expect(echo.body).not.toHaveProperty("logprobs");
  });

  it("fails clearly, without calling, when the named key secret is not set", async () => {
    const error = lastError(await harness({}).run(upstreamAt("echo", { keySecret: "CLOUD_KEY" }), chatJob()));
    expect(error).toEqual({ code: "upstream_key_missing", retryable: true, message: expect.stringContaining("Worker secret CLOUD_KEY") });
  });
});

describe("an upstream that fails", () => {
  it.each([
    ["status-500", "upstream_failed", "HTTP 500: upstream exploded"],
    ["status-429", "busy", "HTTP 429: Rate limit reached for requests"],
  ])("%s is a retryable job error", async (behaviour, code, message) => {
    const error = lastError(await harness().run(upstreamAt(behaviour), chatJob()));
    expect(error).toEqual({ code, retryable: true, message: `upstream cloud answered ${message}` });
  });

  it("a refused key moves the request on (another rung may answer) and says what the upstream said", async () => {
    const error = lastError(await harness().run(upstreamAt("status-401"), chatJob()));
    expect(error).toEqual({
      code: "unauthorized",
      retryable: true,
      message: "upstream cloud answered HTTP 401: Incorrect API key provided: sk-wrong.",
    });
  });

  it.each([
    ["truncated", "upstream_incomplete", "before [DONE]"],
    ["error-event", "upstream_failed", "The model crashed."],
    ["endless-line", "bad_frame", "over-long event"],
  ])("%s ends in a retryable job error after what it sent", async (behaviour, code, message) => {
    const frames = await harness().run(upstreamAt(behaviour), chatJob());
    expect(frames.filter((f) => f.type === "done")).toEqual([]);
    expect(lastError(frames)).toEqual({ code, retryable: true, message: expect.stringContaining(message) });
  });
});

describe("cancelling", () => {
  it("stops the call: no frame arrives after it, not even an error", async () => {
    const { dispatcher, frames, until } = harness();
    dispatcher.send("upstream:cloud", upstreamAt("ticking"), chatJob());
    await until((f) => f.length >= 2);
    expect(dispatcher.cancel("req_1.1")).toBe(true);
    const seen = frames.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(frames.length).toBe(seen);
    expect(frames.every((f) => f.type === "chunk")).toBe(true);
    // The call is gone: cancelling again finds nothing.
    expect(dispatcher.cancel("req_1.1")).toBe(false);
  });
});

describe("upstreams as nodes", () => {
  const upstreams: UpstreamEntry[] = [
    {
      name: "cloud",
      baseUrl: "https://api.example/v1",
      slots: 16,
      models: [
        {
          id: "cloud-large",
          parameters: 70e9,
          contextLength: 128_000,
          pricePerMillionTokens: 0.6,
          quality: 82,
          capabilities: { jsonSchema: true, tools: true, logprobs: false },
        },
        { id: "cloud-mini", parameters: 8e9, contextLength: 32_000 },
      ],
    },
  ];

  it("appear to the router as one node per upstream, with its load and the operator's models", () => {
    const loads: Record<string, Record<string, number>> = { "upstream:cloud": { "cloud-large": 2, "cloud-mini": 1 } };
    const [node] = upstreamNodesOf(upstreams, {
      active: (id) => Object.values(loads[id] ?? {}).reduce((sum, n) => sum + n, 0),
      activeByModel: (id) => loads[id] ?? {},
    });
    expect(node).toEqual({
      id: "upstream:cloud",
      name: "cloud",
      kind: "upstream",
      slots: 16,
      active: 3,
      activeByModel: { "cloud-large": 2, "cloud-mini": 1 },
      draining: false,
      models: [
        {
          id: "cloud-large",
          parameters: 70e9,
          quantization: "upstream",
          contextLength: 128_000,
          tokensPerSecond: 0,
          slots: 16,
          capabilities: { jsonSchema: true, tools: true, logprobs: false },
          pricePerMillionTokens: 0.6,
          quality: 82,
        },
        { id: "cloud-mini", parameters: 8e9, quantization: "upstream", contextLength: 32_000, tokensPerSecond: 0, slots: 16 },
      ],
    });
    expect(upstreamOf(upstreams, "upstream:cloud")).toBe(upstreams[0]);
    expect(upstreamOf(upstreams, "node_cloud")).toBeUndefined();
  });
});
