/**
 * Hostile frames for fuzz-node-protocol.test.ts, each labelled with what the edge must make of it, by
 * construction rather than by running the edge's own parser: `bad` fails the node protocol's schemas (the
 * edge answers a typed error and counts it), `valid` is a well-formed frame other than `hello` (silent once
 * the node joined, a bad frame before), `hello` is a hello the edge accepts (it answers `welcome`), and
 * `refused-hello` a well-formed hello of another major version (a fatal error, then the socket closes).
 */
import { MAX_FRAME_BYTES, MAX_TOKENS_PER_SECOND } from "@rung/shared/protocol";
import { deepArray, deepArrayText, type FuzzRandom } from "./fuzz-random.ts";

export type FrameKind = "bad" | "valid" | "hello" | "refused-hello";

export interface FuzzFrame {
  data: string | Uint8Array;
  kind: FrameKind;
  /** What the frame is, for a failure message. */
  what: string;
  /** The job a forged frame names. */
  jobId?: string;
}

/** Every forged chunk's text starts so: an answer that contains it was changed by a node that did not hold the job. */
export const FORGED_TEXT = "FORGED";

/** Models no hostile hello may announce: a node that serves a model answers its jobs, which is no forgery. */
export interface FrameTargets {
  /** Job ids the honest node holds now (the ones worth forging). */
  liveJobIds: () => readonly string[];
  /** Every job id the honest node was ever given. */
  pastJobIds: () => readonly string[];
  /** Model ids hostile hellos must not announce. */
  reservedModels: readonly string[];
}

type Json = Record<string, unknown>;

export class NodeFrames {
  constructor(
    private readonly rng: FuzzRandom,
    private readonly targets: FrameTargets,
  ) {}

  /** A hello the edge accepts, however absurd: bounds at their limits, duplicate models, ids like `auto`. */
  hello(): FuzzFrame {
    return this.#frame(this.#helloValue(), "hello", "absurd but valid hello");
  }

  /** A well-formed hello of a major version this edge does not speak. */
  refusedHello(): FuzzFrame {
    const hello = { ...this.#helloValue(), protocol: this.rng.pick(["2.0", "0.9", "01.5", "9007199254740993.0"]) };
    return this.#frame(hello, "refused-hello", `hello of protocol ${hello.protocol}`);
  }

  /** A hello with one thing wrong. */
  badHello(): FuzzFrame {
    const hello = this.#helloValue();
    const node = hello.node as Json;
    const first = (hello.models as Json[])[0]!;
    const breakers: [string, () => void][] = [
      ["no models", () => (hello.models = [])],
      ["33 models", () => (hello.models = Array.from({ length: 33 }, (_, i) => this.#model(i)))],
      ["models not a list", () => (hello.models = this.rng.json(1))],
      ["parameters", () => (first.parameters = this.rng.pick([0, -5, 1e13 + 1, 1.5, "1000", null, 1e308]))],
      ["contextLength", () => (first.contextLength = this.rng.pick([0, 2 ** 24 + 1, -1, 0.5]))],
      ["model slots", () => (first.slots = this.rng.pick([0, 257, -1, 1.5]))],
      ["tokensPerSecond", () => (first.tokensPerSecond = this.rng.pick([-1, MAX_TOKENS_PER_SECOND + 1, "fast"]))],
      ["model id", () => (first.id = this.rng.pick(["", "bad id", "x".repeat(129), "é", "a\nb", 42]))],
      ["quantization", () => (first.quantization = this.rng.pick(["q".repeat(33), 4, null]))],
      ["capabilities", () => (first.capabilities = { jsonSchema: "yes", tools: true, logprobs: true })],
      ["node name", () => (node.name = this.rng.pick(["", "a b", "n".repeat(65), "x".repeat(1_000_000)]))],
      ["node kind", () => (node.kind = this.rng.pick(["quantum", "", null]))],
      ["engine", () => (node.engine = this.rng.pick(["gpt", "LLAMA-CPP", 1]))],
      ["node slots", () => (node.slots = this.rng.pick([0, 257, -3, 2.5, "2"]))],
      ["trust", () => (node.trust = this.rng.pick(["root", "admin", true]))],
      ["protocol", () => (hello.protocol = this.rng.pick(["1", "v1.5", "1.5.0", 15, "", "1.x"]))],
      [
        "hardware",
        () => (hello.hardware = this.rng.pick([{ backend: "tpu" }, { backend: "cpu", devices: [], ramTotalBytes: -1, cpuCores: 1 }])),
      ],
      ["no node", () => delete hello.node],
      ["node not an object", () => (hello.node = this.rng.wrongValue())],
    ];
    const [name, breakIt] = this.rng.pick(breakers);
    breakIt();
    return this.#frame(hello, "bad", `hello with bad ${name}`);
  }

  /** A frame no schema takes. */
  bad(): FuzzFrame {
    const rng = this.rng;
    const kinds: [number, () => FuzzFrame][] = [
      [
        2,
        () =>
          raw(
            rng.pick(["", " ", "nope", "{", "}", '{"type":', "NaN", "undefined", "{'type':'chunk'}", "\u0000", rng.text(40)]),
            "not JSON",
          ),
      ],
      [
        1,
        () =>
          raw(rng.pick(['{"type":"chunk","jobId":"j","seq":NaN,"text":"","confidence":0.5}', '{"type":"chunk","seq":Infinity}']), "NaN"),
      ],
      [
        1,
        () =>
          raw(
            `{"type":"chunk","jobId":"${this.#jobId()}","seq":${rng.pick(["1e400", "-1e400"])},"text":"x","confidence":0.5}`,
            "seq past a double",
          ),
      ],
      [2, () => this.#frame(rng.pick([[], null, 42, "hello", true, [{ type: "chunk" }]]), "bad", "JSON but no object")],
      [1, () => raw(deepArrayText(rng.int(1_000, 100_000)), "deep nesting")],
      [
        1,
        () =>
          this.#frame(
            { type: "chunk", jobId: this.#jobId(), seq: 0, text: deepArray(rng.int(10, 3_000)), confidence: 0.5 },
            "bad",
            "deep text",
          ),
      ],
      [
        2,
        () =>
          this.#frame(
            { type: rng.pick(["welcome", "job", "cancel", "error", "pong", "", "CHUNK", "hello ", rng.text(8)]) },
            "bad",
            "unknown type",
          ),
      ],
      [1, () => raw('{ "type": "ping" }', "ping, not byte for byte the keep-alive")],
      [1, () => this.#frame(this.#withoutType(), "bad", "no type")],
      [4, () => this.#brokenChunk()],
      [2, () => this.#brokenDone()],
      [1, () => this.#brokenJobError()],
      [1, () => this.#brokenHeartbeat()],
      [1, () => ({ data: rng.bytes(rng.int(1, 64)), kind: "bad", what: "random bytes" })],
    ];
    return rng.weighted(kinds)();
  }

  /** A chunk past the edge's frame limit: refused before it is parsed. */
  oversized(): FuzzFrame {
    const text = "o".repeat(MAX_FRAME_BYTES + this.rng.int(1, 4096));
    return raw(`{"type":"chunk","jobId":"${this.#jobId()}","seq":0,"text":"${text}","confidence":0.5}`, "frame past the limit");
  }

  /** A well-formed frame other than hello: mostly forgeries for the honest node's jobs. */
  valid(): FuzzFrame {
    const rng = this.rng;
    const kinds: [number, () => FuzzFrame][] = [
      [6, () => this.#forgedChunk()],
      [3, () => this.#forgedDone()],
      [2, () => this.#forgedJobError()],
      [1, () => this.#frame({ type: "draining" }, "valid", "draining")],
      [1, () => this.#heartbeat()],
      [1, () => raw('{"type":"hello","type":"draining"}', "draining after a duplicate key", "valid")],
      [
        1,
        () => {
          const chunk = this.#forgedChunk();
          const text = (chunk.data as string).slice(0, -1);
          const extra = `,"__proto__":{"isAdmin":true},"deep":${JSON.stringify(deepArray(rng.int(10, 2_000)))}}`;
          return { ...chunk, data: `${text}${extra}`, what: "forged chunk with extra keys" };
        },
      ],
      [
        1,
        () => {
          const frame = this.#forgedChunk();
          return { ...frame, data: new TextEncoder().encode(frame.data as string), what: "forged chunk as a binary frame" };
        },
      ],
    ];
    return rng.weighted(kinds)();
  }

  #helloValue(): Json {
    const rng = this.rng;
    const count = rng.weighted([
      [6, 1],
      [2, rng.int(2, 5)],
      [1, 32],
    ] as const);
    const models = Array.from({ length: count }, (_, i) => this.#model(i));
    // The same model twice in one hello.
    if (count > 1 && rng.chance(0.2)) models[1] = { ...models[0]! };
    const hello: Json = {
      type: "hello",
      protocol: rng.pick(["1.5", "1.0", "1.4", "1.999999"]),
      node: {
        name: rng.printable(1, 64),
        kind: rng.pick(["native", "browser"]),
        engine: rng.pick(["llama-cpp", "wllama", "webllm", "echo"]),
        slots: rng.pick([1, 2, 256]),
        ...(rng.chance(0.3) && { trust: rng.pick(["private", "public"]) }),
      },
      models,
    };
    if (rng.chance(0.2)) {
      hello.hardware = {
        backend: rng.pick(["cuda", "vulkan", "metal", "cpu"]),
        devices: Array.from({ length: rng.pick([0, 64]) }, () => "d".repeat(256)),
        vramTotalBytes: Number.MAX_SAFE_INTEGER,
        vramFreeBytes: 0,
        ramTotalBytes: rng.pick([0, Number.MAX_SAFE_INTEGER]),
        cpuCores: rng.pick([1, 2 ** 16]),
      };
    }
    return hello;
  }

  #model(index: number): Json {
    const rng = this.rng;
    let id: string = rng.pick(["auto", "auto:speed", `hostile-${index}-${rng.printable(1, 40)}`, `h${"x".repeat(127)}`]);
    if (this.targets.reservedModels.includes(id)) id = `hostile-${index}`;
    return {
      id,
      parameters: rng.pick([1, 7, 1e13]),
      quantization: rng.pick(["", "Q4_K_M", "q".repeat(32)]),
      contextLength: rng.pick([1, 2048, 2 ** 24]),
      tokensPerSecond: rng.pick([0, 0.0001, MAX_TOKENS_PER_SECOND]),
      slots: rng.pick([1, 256]),
      ...(rng.chance(0.3) && { capabilities: { jsonSchema: rng.chance(0.5), tools: rng.chance(0.5), logprobs: rng.chance(0.5) } }),
    };
  }

  /** A job to forge frames for: one the honest node works on now when there is one. */
  #jobId(): string {
    // As many draws whatever the jobs are, so the frames after this one do not depend on the schedule.
    const [preferLive, preferPast, index, made] = [
      this.rng.chance(0.7),
      this.rng.chance(0.8),
      this.rng.float(),
      this.rng.printable(1, 128),
    ];
    const live = this.targets.liveJobIds();
    const past = this.targets.pastJobIds();
    if (live.length > 0 && preferLive) return live[Math.floor(index * live.length)]!;
    if (past.length > 0 && preferPast) return past[Math.floor(index * past.length)]!;
    return made;
  }

  #forgedChunk(): FuzzFrame {
    const rng = this.rng;
    const jobId = this.#jobId();
    const text = rng.weighted<() => string>([
      [16, () => FORGED_TEXT],
      [1, () => `${FORGED_TEXT}${"x".repeat(rng.pick([10_000, 1_000_000]))}`],
      [2, () => `${FORGED_TEXT}\ud800\u0000\n`],
    ])();
    const chunk: Json = {
      type: "chunk",
      jobId,
      seq: rng.pick([0, 0, 1, 2, 3, 100, Number.MAX_SAFE_INTEGER]),
      text,
      confidence: rng.pick([0, 1, null, 0.5]),
    };
    if (rng.chance(0.2)) chunk.confidences = Array.from({ length: rng.pick([1, 256]) }, () => rng.pick([0, 1, null]));
    return { ...this.#frame(chunk, "valid", "forged chunk"), jobId };
  }

  #forgedDone(): FuzzFrame {
    const rng = this.rng;
    const jobId = this.#jobId();
    const done: Json = {
      type: "done",
      jobId,
      chunks: rng.pick([0, 1, 3, 4, Number.MAX_SAFE_INTEGER]),
      finishReason: rng.pick(["stop", "length"]),
      usage: { promptTokens: rng.pick([0, 5, Number.MAX_SAFE_INTEGER]), completionTokens: rng.pick([0, 3]) },
    };
    if (rng.chance(0.2)) {
      done.finishReason = "tool_calls";
      done.toolCalls = [{ id: "call_forged", name: "forged", arguments: "{}" }];
    }
    return { ...this.#frame(done, "valid", "forged done"), jobId };
  }

  #forgedJobError(): FuzzFrame {
    const rng = this.rng;
    const jobId = this.#jobId();
    const error = {
      code: rng.pick(["engine_failure", "busy", "context_length_exceeded", "internal", "x".repeat(64)]),
      message: rng.pick([FORGED_TEXT, "m".repeat(4_000)]),
      retryable: rng.chance(0.5),
    };
    return { ...this.#frame({ type: "job-error", jobId, error }, "valid", "forged job-error"), jobId };
  }

  #heartbeat(): FuzzFrame {
    const rng = this.rng;
    const models = Array.from({ length: rng.pick([0, 1, 32]) }, () => ({
      id: rng.pick([...this.targets.reservedModels, "auto", rng.printable(1, 128)]),
      tokensPerSecond: rng.pick([0, MAX_TOKENS_PER_SECOND]),
    }));
    const heartbeat = { type: "heartbeat", activeJobs: rng.pick([0, 4096]), models, vramFreeBytes: Number.MAX_SAFE_INTEGER };
    return this.#frame(heartbeat, "valid", "heartbeat at its bounds");
  }

  #withoutType(): Json {
    return { jobId: this.#jobId(), seq: 0, text: FORGED_TEXT, confidence: 0.5 };
  }

  #brokenChunk(): FuzzFrame {
    const rng = this.rng;
    const chunk: Json = { type: "chunk", jobId: this.#jobId(), seq: 0, text: FORGED_TEXT, confidence: 0.5 };
    const breakers: [string, () => void][] = [
      ["negative seq", () => (chunk.seq = rng.pick([-1, -(2 ** 31), -Number.MAX_SAFE_INTEGER]))],
      ["fractional seq", () => (chunk.seq = rng.pick([0.5, 1.25]))],
      ["unsafe seq", () => (chunk.seq = rng.pick([2 ** 53, 2 ** 53 + 2, 1e21, 1.7976931348623157e308]))],
      ["seq of another type", () => (chunk.seq = rng.pick(["0", null, [], {}, true]))],
      ["confidence outside 0..1", () => (chunk.confidence = rng.pick([-0.01, 1.01, 2, -1, 1e308, -1e-300]))],
      ["confidence of another type", () => (chunk.confidence = rng.pick(["0.5", true, []]))],
      ["no confidence", () => delete chunk.confidence],
      ["confidences", () => (chunk.confidences = rng.pick([[], Array(257).fill(0.5), [2], [-1], "x", [0.5, "0.5"]]))],
      ["job id", () => (chunk.jobId = rng.pick(["", "a b", "j".repeat(129), 7, null, "é"]))],
      ["no job id", () => delete chunk.jobId],
      ["text", () => (chunk.text = rng.pick([7, null, { text: "x" }, ["x"]]))],
      ["no text", () => delete chunk.text],
    ];
    const [name, breakIt] = rng.pick(breakers);
    breakIt();
    return this.#frame(chunk, "bad", `chunk with ${name}`);
  }

  #brokenDone(): FuzzFrame {
    const rng = this.rng;
    const done: Json = {
      type: "done",
      jobId: this.#jobId(),
      chunks: 1,
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
    };
    const breakers: [string, () => void][] = [
      ["negative chunks", () => (done.chunks = rng.pick([-1, -0.5]))],
      ["unsafe chunks", () => (done.chunks = rng.pick([2 ** 53 + 2, 1e300]))],
      ["finish reason", () => (done.finishReason = rng.pick(["banana", "", null, "STOP"]))],
      ["no usage", () => delete done.usage],
      ["usage", () => (done.usage = rng.pick([{ promptTokens: -1, completionTokens: 0 }, { promptTokens: 1 }, null, "usage"]))],
      [
        "tool calls",
        () => (done.toolCalls = rng.pick([[{ id: "", name: "f", arguments: "{}" }], "calls", [{ id: "a", name: "f", arguments: {} }]])),
      ],
      ["129 tool calls", () => (done.toolCalls = Array.from({ length: 129 }, (_, i) => ({ id: `c${i}`, name: "f", arguments: "{}" })))],
    ];
    const [name, breakIt] = rng.pick(breakers);
    breakIt();
    return this.#frame(done, "bad", `done with ${name}`);
  }

  #brokenJobError(): FuzzFrame {
    const rng = this.rng;
    const error = rng.pick<unknown>([
      undefined,
      "an error",
      { code: "", message: "m", retryable: true },
      { code: "c".repeat(65), message: "m", retryable: true },
      { code: "busy", message: "m".repeat(4_001), retryable: true },
      { code: "busy", message: "m", retryable: "yes" },
      { code: "busy", message: "m" },
    ]);
    return this.#frame({ type: "job-error", jobId: this.#jobId(), error }, "bad", "job-error with a bad error");
  }

  #brokenHeartbeat(): FuzzFrame {
    const rng = this.rng;
    const heartbeat = rng.pick<Json>([
      { type: "heartbeat", activeJobs: 4097, models: [] },
      { type: "heartbeat", activeJobs: -1, models: [] },
      { type: "heartbeat", activeJobs: 0, models: Array.from({ length: 33 }, (_, i) => ({ id: `m${i}`, tokensPerSecond: 1 })) },
      { type: "heartbeat", activeJobs: 0, models: [{ id: "m", tokensPerSecond: MAX_TOKENS_PER_SECOND + 1 }] },
      { type: "heartbeat", activeJobs: 0, models: [], vramFreeBytes: -1 },
      { type: "heartbeat" },
    ]);
    return this.#frame(heartbeat, "bad", "heartbeat out of bounds");
  }

  #frame(value: unknown, kind: FrameKind, what: string): FuzzFrame {
    return { data: JSON.stringify(value), kind, what };
  }
}

function raw(data: string, what: string, kind: FrameKind = "bad"): FuzzFrame {
  return { data, kind, what };
}
