import {
  EngineError,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
  toolCallText,
} from "@rung/shared/node";
import { type BrowserModel, EngineName, FinishReason, type ModelInfo, type WireChatMessage, WireErrorCode } from "@rung/shared/protocol";
import { type ChatCompletionMessage, type ChatCompletionParams, Wllama, WllamaAbortError } from "@wllama/wllama/esm/index.js";
import { ggufFileTypeName } from "./gguf-file-type.ts";
import { hashedGguf } from "./hashed-gguf.ts";
import type { LoadProgress } from "./load-progress.ts";
import { toWllamaError } from "./wllama-error.ts";
import { SIGNAL_TOP_LOGPROBS, wllamaPiece } from "./wllama-piece.ts";

export interface WllamaLoadOptions {
  model: BrowserModel;
  /** URL of wllama's wasm, as the page's build emitted it. */
  wasmUrl: string;
  /** llama.cpp threads; more than 1 needs a cross-origin isolated page. */
  threads: number;
  onProgress(progress: LoadProgress): void;
}

/**
 * llama.cpp compiled to WebAssembly, for tabs without a usable GPU. wllama runs
 * llama-server's own request handling, so chat templates, sampling and logprobs
 * are llama.cpp's: greedy answers match a native agent's token for token.
 */
export class WllamaEngine implements InferenceEngine {
  readonly name = EngineName.wllama;
  readonly slots = 1;
  readonly models: readonly ModelInfo[];

  private constructor(
    private readonly wllama: Wllama,
    model: ModelInfo,
    /** Threads llama.cpp actually got: 1 where the page is not cross-origin isolated. */
    readonly threads: number,
  ) {
    this.models = [model];
  }

  static async load({ model, wasmUrl, threads, onProgress }: WllamaLoadOptions): Promise<WllamaEngine> {
    const wllama = new Wllama({ default: wasmUrl }, { suppressNativeLog: true, logger: quietLogger });
    try {
      const started = performance.now();
      // Downloaded (or read from wllama's cache) and hashed here rather than by wllama, which cannot hash as it
      // downloads: a file that is not the pool's never reaches llama.cpp.
      const file = await hashedGguf({
        cache: wllama.cacheManager,
        url: model.url,
        modelId: model.id,
        ...(model.sha256 !== undefined && { expectedSha256: model.sha256 }),
        onProgress: (loadedBytes, totalBytes) => onProgress({ loadedBytes, totalBytes, elapsedMs: performance.now() - started }),
      });
      await wllama.loadModel([file.blob], {
        n_ctx: model.contextLength,
        n_threads: threads,
        // The same KV cache precision and attention path as the agent's exactness tests, so answers agree.
        flash_attn: false,
      });
      const metadata = wllama.getModelMetadata();
      const info: ModelInfo = {
        id: model.id,
        parameters: model.parameters ?? parameterCount(metadata.hparams),
        quantization: ggufFileTypeName(metadata.meta["general.file_type"]),
        contextLength: wllama.getLoadedContextInfo().n_ctx ?? model.contextLength,
        tokensPerSecond: 0,
        slots: 1,
        capabilities: { jsonSchema: false, tools: false, logprobs: true },
        sha256: file.sha256,
      };
      return new WllamaEngine(wllama, info, wllama.getNumThreads());
    } catch (error) {
      await wllama.exit().catch(() => undefined);
      throw toWllamaError(error, "load");
    }
  }

  async generate(request: GenerationRequest, { signal, onPiece }: GenerationOptions): Promise<GenerationResult> {
    const { input, sampling } = request;
    const common = {
      max_tokens: sampling.maxTokens ?? -1,
      temperature: sampling.temperature,
      top_p: sampling.topP,
      ...(sampling.seed !== undefined && { seed: sampling.seed }),
      stop: sampling.stop,
      abortSignal: signal,
      stream: true as const,
    };
    let finishReason: GenerationResult["finishReason"] = FinishReason.stop;
    let completionTokens = 0;
    let promptTokens = 0;
    try {
      if (input.kind === "completion") {
        // Raw completions stream no logprobs in wllama's OAI layer, so their pieces carry no confidence (nor margin).
        const stream = await this.wllama.createCompletion({ ...common, prompt: input.prompt });
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (choice?.text) {
            completionTokens += 1;
            onPiece({ text: choice.text, confidence: null });
          }
          if (choice?.finish_reason === "length") finishReason = FinishReason.length;
          if (chunk.usage) ({ prompt_tokens: promptTokens, completion_tokens: completionTokens } = chunk.usage);
        }
      } else {
        const signals = request.tokenSignals === true;
        const params: ChatCompletionParams & { stream: true } = {
          ...common,
          messages: input.messages.map(toWllamaMessage),
          logprobs: true,
          ...(signals && { top_logprobs: SIGNAL_TOP_LOGPROBS }),
        };
        const stream = await this.wllama.createChatCompletion(params);
        for await (const chunk of stream) {
          const piece = wllamaPiece(chunk, signals);
          if (piece) {
            const { tokens, ...generated } = piece;
            completionTokens += tokens;
            onPiece(generated);
          }
          if (chunk.choices[0]?.finish_reason === "length") finishReason = FinishReason.length;
          if (chunk.usage) ({ prompt_tokens: promptTokens, completion_tokens: completionTokens } = chunk.usage);
          if (chunk.timings) promptTokens = chunk.timings.prompt_n + chunk.timings.cache_n;
        }
      }
    } catch (error) {
      if (signal.aborted || error instanceof WllamaAbortError)
        throw new EngineError(WireErrorCode.cancelled, "generation was aborted", false);
      throw toWllamaError(error, "generate");
    }
    if (signal.aborted) throw new EngineError(WireErrorCode.cancelled, "generation was aborted", false);
    return { finishReason, usage: { promptTokens, completionTokens } };
  }

  async dispose(): Promise<void> {
    await this.wllama.exit();
  }
}

/**
 * Developer turns are system turns to a chat template; tool results and calls
 * become plain text, as the native agent renders them for models without a
 * tool-call syntax of their own.
 */
function toWllamaMessage(message: WireChatMessage): ChatCompletionMessage {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant":
      return { role: "assistant", content: [message.content, ...(message.toolCalls ?? []).map(toolCallText)].filter(Boolean).join("\n") };
    case "tool":
      return { role: "user", content: `Result of call ${message.toolCallId ?? "?"}:\n${message.content}` };
  }
}

/** Weights in a llama-style model, from its shape: the page has no other count to announce. */
function parameterCount({ nVocab, nEmbd, nLayer }: { nVocab: number; nEmbd: number; nLayer: number }): number {
  // Embeddings and output (2·V·E) plus per layer attention (4·E²) and a SwiGLU MLP (3·E·(8E/3) ≈ 8·E²).
  return Math.max(1, Math.round(2 * nVocab * nEmbd + nLayer * 12 * nEmbd * nEmbd));
}

const quietLogger = {
  debug: () => undefined,
  log: () => undefined,
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => console.error(...args),
};
