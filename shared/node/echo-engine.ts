import type { Capabilities, ModelInfo } from "../protocol/messages.ts";
import { EngineError } from "./engine-error.ts";
import type { GenerationOptions, GenerationRequest, GenerationResult, InferenceEngine } from "./inference-engine.ts";

export interface EchoEngineOptions {
  models: ModelInfo[];
  /** Default 1. */
  slots?: number;
  /** Delay before each piece, in ms, so tests can act mid-stream. Default 0. */
  pieceDelayMs?: number;
  /** Confidence reported for every piece. Default 0.9. */
  confidence?: number;
  /**
   * Repeat the words cyclically until exactly `maxTokens` pieces when the request sets it,
   * so a benchmark can ask a short prompt for a long answer. Default false: the words once.
   */
  fill?: boolean;
}

/** Echo repeats its input: it cannot shape an answer as JSON or call a function; its confidence is the configured one. */
const ECHO_CAPABILITIES: Capabilities = { jsonSchema: false, tools: false, logprobs: true };

/**
 * A model-free engine that answers with the last user message (or the prompt),
 * one word a piece. It lets tests exercise links and the edge without loading
 * weights, and benchmarks measure the relay (`fill`); it is never a stand-in for
 * a model in end-to-end tests.
 */
export class EchoEngine implements InferenceEngine {
  readonly name = "echo";
  readonly models: readonly ModelInfo[];
  readonly slots: number;
  readonly #delayMs: number;
  readonly #confidence: number;
  readonly #fill: boolean;

  constructor(options: EchoEngineOptions) {
    this.models = options.models.map((model) => ({ ...model, capabilities: ECHO_CAPABILITIES }));
    this.slots = options.slots ?? 1;
    this.#delayMs = options.pieceDelayMs ?? 0;
    this.#confidence = options.confidence ?? 0.9;
    this.#fill = options.fill ?? false;
  }

  async generate(request: GenerationRequest, { signal, onPiece }: GenerationOptions): Promise<GenerationResult> {
    const text = request.input.kind === "chat" ? (request.input.messages.at(-1)?.content ?? "") : request.input.prompt;
    const words = text.split(/(?<=\s)/).filter(Boolean);
    const limit = request.sampling.maxTokens;
    const count = this.#fill && limit !== undefined && words.length > 0 ? limit : Math.min(words.length, limit ?? words.length);
    for (let i = 0; i < count; i++) {
      if (this.#delayMs > 0) await sleep(this.#delayMs, signal);
      if (signal.aborted) throw new EngineError("cancelled", "aborted", false);
      onPiece({ text: words[i % words.length]!, confidence: this.#confidence });
    }
    return {
      finishReason: count === limit && (this.#fill || count < words.length) ? "length" : "stop",
      usage: { promptTokens: words.length, completionTokens: count },
    };
  }

  async dispose(): Promise<void> {}
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
