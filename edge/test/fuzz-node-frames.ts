/**
 * Hostile frames for fuzz-node-protocol.test.ts, each labelled with what the edge must make of it, by
 * construction rather than by running the edge's own parser: `bad` fails the node protocol's schemas (the
 * edge answers a typed error and counts it), `valid` is a well-formed frame other than `hello` (silent once
 * the node joined, a bad frame before), `hello` is a hello the edge accepts (it answers `welcome`), and
 * `refused-hello` a well-formed hello of another major version (a fatal error, then the socket closes).
 */
import { MAX_FRAME_BYTES, MAX_TOKENS_PER_SECOND } from "@rung/shared/protocol";
import { type Broken, BrokenFrames } from "./fuzz-broken-frames.ts";
import { HelloFrames } from "./fuzz-hello-frames.ts";
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
  /** Hellos and broken job frames come from their own modules; they draw from this generator too. */
  readonly #hellos: HelloFrames;
  readonly #broken: BrokenFrames;

  constructor(
    private readonly rng: FuzzRandom,
    private readonly targets: FrameTargets,
  ) {
    this.#hellos = new HelloFrames(rng, targets.reservedModels);
    this.#broken = new BrokenFrames(rng, () => this.#jobId(), FORGED_TEXT);
  }

  /** A hello the edge accepts, however absurd: bounds at their limits, duplicate models, ids like `auto`. */
  hello(): FuzzFrame {
    return this.#frame(this.#hellos.value(), "hello", "absurd but valid hello");
  }

  /** A well-formed hello of a major version this edge does not speak. */
  refusedHello(): FuzzFrame {
    const hello = { ...this.#hellos.value(), protocol: this.rng.pick(["2.0", "0.9", "01.5", "9007199254740993.0"]) };
    return this.#frame(hello, "refused-hello", `hello of protocol ${hello.protocol}`);
  }

  /** A hello with one thing wrong. */
  badHello(): FuzzFrame {
    const { hello, name } = this.#hellos.broken();
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
      [4, () => this.#bad(this.#broken.chunk())],
      [2, () => this.#bad(this.#broken.done())],
      [1, () => this.#bad(this.#broken.jobError())],
      [1, () => this.#bad(this.#broken.heartbeat())],
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

  #bad({ value, what }: Broken): FuzzFrame {
    return this.#frame(value, "bad", what);
  }

  #frame(value: unknown, kind: FrameKind, what: string): FuzzFrame {
    return { data: JSON.stringify(value), kind, what };
  }
}

function raw(data: string, what: string, kind: FrameKind = "bad"): FuzzFrame {
  return { data, kind, what };
}
