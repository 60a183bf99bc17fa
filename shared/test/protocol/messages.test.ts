import { describe, expect, it } from "vitest";
import { type EdgeMessage, edgeMessageSchema, type NodeMessage, nodeMessageSchema, PROTOCOL_VERSION } from "../../protocol/messages.ts";

const model = {
  id: "qwen2.5-0.5b-instruct-q4_k_m",
  parameters: 494_000_000,
  quantization: "Q4_K_M",
  contextLength: 4096,
  tokensPerSecond: 42.5,
  slots: 2,
};
const sampling = { maxTokens: 64, temperature: 0.7, topP: 0.95, stop: ["\n\n"], seed: 7 };

const nodeMessages = {
  hello: {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: "tab-1", kind: "browser", engine: "wllama", slots: 1 },
    models: [model],
  },
  chunk: { type: "chunk", jobId: "job-1", seq: 3, text: "Hello", confidence: 0.82 },
  "chunk without confidence": { type: "chunk", jobId: "job-1", seq: 0, text: "", confidence: null },
  "chunk of several tokens (1.4)": {
    type: "chunk",
    jobId: "job-1",
    seq: 1,
    text: "Hello there",
    confidence: 0.5,
    confidences: [0.9, null, 0.5],
  },
  "chunk of one token with its margin and entropy (1.7)": {
    type: "chunk",
    jobId: "job-1",
    seq: 2,
    text: " there",
    confidence: 0.6,
    margins: [0.35],
    entropies: [1.2],
  },
  "chunk of several tokens with margins and entropies, some unknown (1.7)": {
    type: "chunk",
    jobId: "job-1",
    seq: 1,
    text: "Hello there",
    confidence: 0.5,
    confidences: [0.9, null, 0.5],
    margins: [0.85, null, 0],
    entropies: [0.4, null, 64],
  },
  done: { type: "done", jobId: "job-1", chunks: 4, finishReason: "length", usage: { promptTokens: 12, completionTokens: 4 } },
  "job-error": { type: "job-error", jobId: "job-1", error: { code: "busy", message: "every slot is taken", retryable: true } },
  draining: { type: "draining" },
  "hello with hardware (1.1)": {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: "lab-gpu-1", kind: "native", engine: "llama-cpp", slots: 4 },
    models: [model],
    hardware: {
      backend: "cuda",
      devices: ["NVIDIA GeForce RTX 4090"],
      vramTotalBytes: 25_757_220_864,
      vramFreeBytes: 20_000_000_000,
      ramTotalBytes: 68_719_476_736,
      cpuCores: 16,
    },
  },
  "hello with CPU hardware": {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: "lab-cpu-1", kind: "native", engine: "llama-cpp", slots: 2 },
    models: [model],
    hardware: { backend: "cpu", devices: [], ramTotalBytes: 8_589_934_592, cpuCores: 2 },
  },
  heartbeat: {
    type: "heartbeat",
    activeJobs: 2,
    models: [{ id: model.id, tokensPerSecond: 57.3 }],
    vramFreeBytes: 19_000_000_000,
  },
  "heartbeat of an idle CPU node": { type: "heartbeat", activeJobs: 0, models: [] },
  "hello with capabilities (1.2)": {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: "lab-cpu-2", kind: "native", engine: "llama-cpp", slots: 1 },
    models: [{ ...model, capabilities: { jsonSchema: true, tools: true, logprobs: true } }],
  },
  "hello with a model's sha256 (1.6)": {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    node: { name: "tab-2", kind: "browser", engine: "wllama", slots: 1, trust: "public" },
    models: [{ ...model, sha256: "0123456789abcdef".repeat(4) }],
  },
  "done with tool calls (1.2)": {
    type: "done",
    jobId: "job-1",
    chunks: 0,
    finishReason: "tool_calls",
    usage: { promptTokens: 30, completionTokens: 12 },
    toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
  },
} satisfies Record<string, NodeMessage>;

const edgeMessages = {
  welcome: { type: "welcome", nodeId: "node-7", protocol: PROTOCOL_VERSION },
  "chat job": {
    type: "job",
    jobId: "job-1",
    model: model.id,
    input: {
      kind: "chat",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    },
    sampling,
  },
  "completion job without maxTokens or seed": {
    type: "job",
    jobId: "job-2",
    model: model.id,
    input: { kind: "completion", prompt: "Once upon" },
    sampling: { temperature: 0, topP: 1, stop: [] },
  },
  "job with a JSON schema (1.2)": {
    type: "job",
    jobId: "job-3",
    model: model.id,
    input: { kind: "chat", messages: [{ role: "user", content: "Name a city" }] },
    sampling,
    responseFormat: { type: "json_schema", name: "city", schema: { type: "object", properties: { city: { type: "string" } } } },
  },
  "job with tools after a tool turn (1.2)": {
    type: "job",
    jobId: "job-4",
    model: model.id,
    input: {
      kind: "chat",
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' }] },
        { role: "tool", content: "4°C", toolCallId: "call_1" },
      ],
    },
    sampling,
    tools: [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
    toolChoice: { name: "get_weather" },
  },
  "job asking for token signals (1.7)": {
    type: "job",
    jobId: "job-5",
    model: model.id,
    input: { kind: "completion", prompt: "Once upon" },
    sampling: { temperature: 0, topP: 1, stop: [] },
    tokenSignals: true,
  },
  cancel: { type: "cancel", jobId: "job-1" },
  error: { type: "error", error: { code: "bad_frame", message: "frame is not JSON", retryable: false }, fatal: true },
} satisfies Record<string, EdgeMessage>;

/** What the other side sees: the frame through JSON and back through the schema. */
function overTheWire<T>(schema: { parse(value: unknown): T }, message: unknown): T {
  return schema.parse(JSON.parse(JSON.stringify(message)));
}

describe("node messages", () => {
  it.each(Object.entries(nodeMessages))("%s round-trips through nodeMessageSchema", (_name, message) => {
    expect(overTheWire(nodeMessageSchema, message)).toEqual(message);
  });

  it("rejects an unknown type", () => {
    expect(nodeMessageSchema.safeParse({ type: "ping" }).success).toBe(false);
  });

  it("rejects a frame without a type", () => {
    const { type: _type, ...untyped } = nodeMessages.chunk;
    expect(nodeMessageSchema.safeParse(untyped).success).toBe(false);
  });

  it.each(Object.entries(edgeMessages))("rejects the edge's %s frame", (_name, message) => {
    expect(nodeMessageSchema.safeParse(message).success).toBe(false);
  });

  it("accepts a frame from a newer minor version with fields it does not know", () => {
    const newer = { ...nodeMessages.chunk, logprob: -0.2 };
    expect(nodeMessageSchema.parse(newer)).toEqual(nodeMessages.chunk);
  });

  it("words a signal list of the wrong length by its field", () => {
    const result = nodeMessageSchema.safeParse({ ...nodeMessages["chunk of several tokens (1.4)"], margins: [0.5] });
    expect(result.error?.issues).toMatchObject([{ path: ["margins"], message: "must list one value per token of the frame (3)" }]);
  });

  it("accepts a 1.0 hello without hardware, so older agents still join", () => {
    expect(nodeMessageSchema.parse({ ...nodeMessages.hello, protocol: "1.0" })).toMatchObject({ type: "hello", protocol: "1.0" });
  });

  it("accepts a 1.5 hello whose models carry no sha256, so older tabs still join", () => {
    expect(nodeMessageSchema.parse({ ...nodeMessages.hello, protocol: "1.5" })).toEqual({ ...nodeMessages.hello, protocol: "1.5" });
  });

  it.each([
    ["a negative seq", { ...nodeMessages.chunk, seq: -1 }],
    ["a fractional seq", { ...nodeMessages.chunk, seq: 1.5 }],
    ["a confidence above 1", { ...nodeMessages.chunk, confidence: 1.01 }],
    ["an empty confidences list", { ...nodeMessages.chunk, confidences: [] }],
    ["a confidences entry above 1", { ...nodeMessages.chunk, confidences: [0.5, 1.2] }],
    ["over 256 confidences", { ...nodeMessages.chunk, confidences: new Array(257).fill(0.5) }],
    ["a margin above 1", { ...nodeMessages.chunk, margins: [1.01] }],
    ["a negative margin", { ...nodeMessages.chunk, margins: [-0.1] }],
    ["a negative entropy", { ...nodeMessages.chunk, entropies: [-0.01] }],
    ["an entropy above the cap", { ...nodeMessages.chunk, entropies: [64.5] }],
    ["an empty margins list", { ...nodeMessages.chunk, margins: [] }],
    ["margins for two tokens in a frame of one", { ...nodeMessages.chunk, margins: [0.1, 0.2] }],
    ["entropies that do not match confidences", { ...nodeMessages["chunk of several tokens (1.4)"], entropies: [0.1, 0.2] }],
    ["an empty jobId", { ...nodeMessages.chunk, jobId: "" }],
    ["a hello without models", { ...nodeMessages.hello, models: [] }],
    ["an unknown engine", { ...nodeMessages.hello, node: { name: "n", kind: "native", engine: "vllm", slots: 1 } }],
    ["a protocol that is not major.minor", { ...nodeMessages.hello, protocol: "1" }],
    ["an unknown finish reason", { ...nodeMessages.done, finishReason: "content_filter" }],
    ["an error without retryable", { type: "job-error", jobId: "j", error: { code: "busy", message: "x" } }],
    [
      "an unknown GPU backend",
      { ...nodeMessages.hello, hardware: { ...nodeMessages["hello with CPU hardware"].hardware, backend: "rocm" } },
    ],
    [
      "negative free VRAM",
      { ...nodeMessages.hello, hardware: { ...nodeMessages["hello with hardware (1.1)"].hardware, vramFreeBytes: -1 } },
    ],
    ["a model sha256 in upper case", { ...nodeMessages.hello, models: [{ ...model, sha256: "AB".repeat(32) }] }],
    ["a model sha256 one character short", { ...nodeMessages.hello, models: [{ ...model, sha256: "a".repeat(63) }] }],
    ["a heartbeat with negative tokens/s", { ...nodeMessages.heartbeat, models: [{ id: model.id, tokensPerSecond: -1 }] }],
    ["a heartbeat without activeJobs", { type: "heartbeat", models: [] }],
    ["a heartbeat with a model id containing spaces", { ...nodeMessages.heartbeat, models: [{ id: "a b", tokensPerSecond: 1 }] }],
  ])("rejects %s", (_name, frame) => {
    expect(nodeMessageSchema.safeParse(frame).success).toBe(false);
  });
});

describe("edge messages", () => {
  it.each(Object.entries(edgeMessages))("%s round-trips through edgeMessageSchema", (_name, message) => {
    expect(overTheWire(edgeMessageSchema, message)).toEqual(message);
  });

  it("rejects an unknown type", () => {
    expect(edgeMessageSchema.safeParse({ type: "shutdown" }).success).toBe(false);
  });

  it("accepts a job from a newer minor version with fields it does not know, dropping them", () => {
    expect(edgeMessageSchema.parse({ ...edgeMessages["chat job"], tokenBudget: 3 })).toEqual(edgeMessages["chat job"]);
  });

  it.each(Object.entries(nodeMessages))("rejects the node's %s frame", (_name, message) => {
    expect(edgeMessageSchema.safeParse(message).success).toBe(false);
  });

  const chatJob = edgeMessages["chat job"];
  it.each([
    ["a chat job without messages", { ...chatJob, input: { kind: "chat", messages: [] } }],
    ["an unknown input kind", { ...chatJob, input: { kind: "embedding", text: "x" } }],
    ["an unknown role", { ...chatJob, input: { kind: "chat", messages: [{ role: "bot", content: "x" }] } }],
    ["temperature above 2", { ...chatJob, sampling: { ...sampling, temperature: 2.5 } }],
    ["topP of 0", { ...chatJob, sampling: { ...sampling, topP: 0 } }],
    ["more than four stop sequences", { ...chatJob, sampling: { ...sampling, stop: ["a", "b", "c", "d", "e"] } }],
    ["an empty stop sequence", { ...chatJob, sampling: { ...sampling, stop: [""] } }],
    ["maxTokens of 0", { ...chatJob, sampling: { ...sampling, maxTokens: 0 } }],
    ["tokenSignals that is not a boolean", { ...chatJob, tokenSignals: "yes" }],
  ])("rejects %s", (_name, frame) => {
    expect(edgeMessageSchema.safeParse(frame).success).toBe(false);
  });
});
