import type {
  ChatCompletionChunk,
  ChatCompletionRequestStreaming,
  ChatCompletionTokenLogprob,
  Completion,
  CompletionCreateParamsStreaming,
  ModelRecord,
} from "@mlc-ai/web-llm";
import { MLCEngine } from "@mlc-ai/web-llm";
import {
  EngineError,
  type GeneratedPiece,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
  lowerKnown,
  marginOfTopLogprobs,
} from "@rung/shared/node";
import { EngineName, FinishReason, type ModelInfo, type Sampling } from "@rung/shared/protocol";
import { contextOf, estimateParameters, quantizationOf } from "./choose-webllm-model.ts";
import { toWebllmMessages } from "./to-webllm-messages.ts";
import { WebEngineErrorCode } from "./web-engine-error-code.ts";
import { toEngineError } from "./webllm-error.ts";

/**
 * The part of WebLLM's `MLCEngine` this node uses. Tests pass a fake: WebLLM
 * fetches weights and compiled kernels from hosts the test machines cannot reach.
 */
export interface MlcEngineLike {
  readonly chat: { readonly completions: { create(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> } };
  readonly completions: { create(request: CompletionCreateParamsStreaming): Promise<AsyncIterable<Completion>> };
  interruptGenerate(): void | Promise<void>;
  unload(): Promise<void>;
}

export interface WebllmLoadOptions {
  /** `fraction` 0..1 and WebLLM's own words ("Fetching param cache[3/24]: …"). */
  onProgress(progress: { fraction: number; text: string }): void;
}

/** Where a record leaves the window to the model's config we cannot read before loading, we set this one. */
const DEFAULT_CONTEXT = 2048;
/** WebLLM's floor for `top_p`: top-p sampling at it keeps only the most likely token. */
const GREEDY_TOP_P = 1e-5;

/** WebLLM on WebGPU: one model, one job at a time (WebLLM queues requests per model behind a lock). */
export class WebllmEngine implements InferenceEngine {
  readonly name = EngineName.webllm;
  readonly slots = 1;
  #models: readonly ModelInfo[];

  constructor(
    private readonly engine: MlcEngineLike,
    model: ModelInfo,
  ) {
    this.#models = [model];
  }

  get models(): readonly ModelInfo[] {
    return this.#models;
  }

  /**
   * Downloads (or reads from the browser cache) and loads `record`; works in a
   * worker, where `navigator.gpu` exists too. A load the donor gives up on is
   * stopped by ending the worker, which frees the GPU with it.
   */
  static async load(record: ModelRecord, { onProgress }: WebllmLoadOptions): Promise<WebllmEngine> {
    const engine = new MLCEngine({
      appConfig: { model_list: [record] },
      initProgressCallback: (report) => onProgress({ fraction: report.progress, text: report.text }),
      logLevel: "WARN",
    });
    try {
      await engine.reload(
        record.model_id,
        contextOf(record) > 0 || slidingWindowOf(record) > 0 ? undefined : { context_window_size: DEFAULT_CONTEXT },
      );
    } catch (error) {
      await engine.unload().catch(() => undefined);
      throw toEngineError(error);
    }
    return new WebllmEngine(engine, modelInfoOf(record));
  }

  async generate(request: GenerationRequest, { signal, onPiece }: GenerationOptions): Promise<GenerationResult> {
    if (signal.aborted) throw cancelled();
    const { input } = request;
    const signals = request.tokenSignals === true;
    const sampling = samplingOf(request.sampling, signals);
    let stream: AsyncIterable<ChatCompletionChunk | Completion>;
    try {
      stream =
        input.kind === "chat"
          ? await this.engine.chat.completions.create({ ...sampling, messages: toWebllmMessages(input.messages) })
          : await this.engine.completions.create({ ...sampling, prompt: input.prompt });
    } catch (error) {
      throw toEngineError(error);
    }
    const iterator = stream[Symbol.asyncIterator]();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void Promise.resolve(this.engine.interruptGenerate()).catch(() => undefined);
        // WebLLM clears its interrupt flag when a queued request takes the lock; closing the stream stops it at its next token anyway.
        void iterator.return?.().catch(() => undefined);
        reject(cancelled());
      };
    });
    aborted.catch(() => undefined);
    signal.addEventListener("abort", onAbort, { once: true });

    let finishReason: string | null = null;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let steps = 0;
    // Confidence (and margin) of a token whose text WebLLM holds back (it may begin a stop string): it counts for the next piece.
    let heldBack: number | null = null;
    let heldBackMargin: number | null = null;
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next.done) break;
        const chunk = next.value;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.finish_reason) finishReason = choice.finish_reason;
        else steps += 1;
        const confidence = lowerKnown(heldBack, confidenceOf(choice.logprobs?.content));
        const margin: number | null = signals ? lowerKnown(heldBackMargin, marginOf(choice.logprobs?.content)) : null;
        const text = "delta" in choice ? (choice.delta.content ?? "") : choice.text;
        if (text) {
          const piece: GeneratedPiece = { text, confidence };
          // WebLLM hands out only the top few probabilities of each step, not the whole distribution: no entropy.
          if (signals) Object.assign(piece, { margin, entropy: null });
          onPiece(piece);
        }
        heldBack = text ? null : confidence;
        heldBackMargin = text ? null : margin;
      }
    } catch (error) {
      throw signal.aborted ? cancelled() : toEngineError(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted) throw cancelled();
    if (finishReason === "abort") throw new EngineError(WebEngineErrorCode.interrupted, "generation was interrupted in this tab", true);
    return {
      finishReason: finishReason === "length" ? FinishReason.length : FinishReason.stop,
      // Without a usage chunk, each streamed step is one decoded token.
      usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? steps },
    };
  }

  async dispose(): Promise<void> {
    await this.engine.unload();
  }
}

function cancelled(): EngineError {
  return new EngineError(WebEngineErrorCode.cancelled, "generation was aborted", false);
}

/** What the node announces for a WebLLM record; the worker measures the speed after loading. */
export function modelInfoOf(record: ModelRecord): ModelInfo {
  return {
    id: record.model_id,
    parameters: estimateParameters(record),
    quantization: quantizationOf(record.model_id) ?? "unknown",
    contextLength: contextOf(record) || slidingWindowOf(record) || DEFAULT_CONTEXT,
    tokensPerSecond: 0,
    slots: 1,
    capabilities: { jsonSchema: false, tools: false, logprobs: true },
  };
}

function slidingWindowOf(record: ModelRecord): number {
  return Math.max(0, record.overrides?.sliding_window_size ?? 0);
}

function samplingOf(sampling: Sampling, tokenSignals: boolean) {
  // WebLLM reports probabilities after temperature scaling and clamps 0 to 1e-6, so a greedy
  // request would see 1.0 for every token. Temperature 1 with the least top_p picks the same
  // most likely token and keeps the model's own probabilities, which escalation reads.
  const greedy = sampling.temperature === 0;
  return {
    stream: true as const,
    stream_options: { include_usage: true },
    // WebLLM records logprobs only when `top_logprobs` is at least 1. It copies the whole distribution to the CPU
    // for that either way, so the second entry a margin needs (the runner-up, see marginOf) costs next to nothing.
    logprobs: true,
    top_logprobs: tokenSignals ? 2 : 1,
    temperature: greedy ? 1 : sampling.temperature,
    top_p: greedy ? GREEDY_TOP_P : sampling.topP,
    ...(sampling.maxTokens !== undefined && { max_tokens: sampling.maxTokens }),
    ...(sampling.stop.length > 0 && { stop: sampling.stop }),
    ...(sampling.seed !== undefined && { seed: sampling.seed }),
  };
}

/** The least probable token of a chunk (WebLLM streams one per chunk), or null where it sent none. */
function confidenceOf(logprobs: readonly ChatCompletionTokenLogprob[] | null | undefined): number | null {
  if (!logprobs || logprobs.length === 0) return null;
  return Math.min(1, ...logprobs.map((entry) => Math.exp(entry.logprob)));
}

/**
 * The smallest margin of a chunk's tokens, each from its top two: WebLLM takes them from the
 * same temperature-scaled distribution as the chosen token's, before top-p; null where it sent none.
 */
function marginOf(logprobs: readonly ChatCompletionTokenLogprob[] | null | undefined): number | null {
  let margin: number | null = null;
  for (const entry of logprobs ?? []) margin = lowerKnown(margin, marginOfTopLogprobs(entry.logprob, entry.top_logprobs));
  return margin;
}
