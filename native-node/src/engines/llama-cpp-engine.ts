import {
  EngineError,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
} from "@rung/shared/node";
import { EngineName, type Hardware, type ModelInfo, WireErrorCode } from "@rung/shared/protocol";
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";
import { type Logger, silentLogger } from "../log/logger.ts";
import { answerShapeOf } from "./answer-shape.ts";
import { buildPrompt } from "./build-prompt.ts";
import { defaultThreads } from "./default-threads.ts";
import { detectHardware } from "./detect-hardware.ts";
import { fitModels } from "./fit-models.ts";
import { generateOnSequence } from "./generate-on-sequence.ts";
import { type LoadedModel, loadModel, type ModelSource } from "./load-model.ts";
import { measureTokensPerSecond } from "./measure-speed.ts";
import { ToolCallOutput } from "./tool-call-output.ts";
import { toolPrompt } from "./tool-prompt.ts";

export type GpuOption = "auto" | "cuda" | "vulkan" | "metal" | false;

export interface LlamaCppEngineOptions {
  /** Models to serve, each under its own id. At least one. */
  models: readonly ModelSource[];
  /** Compute backend; `false` forces CPU. Default `"auto"` (the best one that works here). */
  gpu?: GpuOption;
  /** CPU threads per context. Default `defaultThreads()`. */
  threads?: number;
  /** Context sequences wanted per model, i.e. jobs each model runs at once; fewer when memory is short (at least 1). Default 2. */
  slots?: number;
  /** Context tokens per sequence. Default: the smaller of the model's trained context and 4096. */
  contextSize?: number;
  /**
   * Bytes all models together may use (VRAM with a GPU, RAM without), instead
   * of what is free now. Default: the free VRAM, or the free RAM on CPU.
   */
  memoryLimitBytes?: number;
  /** Where load decisions (slots cut to fit memory) are told. Default: silent. */
  logger?: Logger;
}

/** Runs GGUF models with node-llama-cpp; one context per model, one sequence per job. */
export class LlamaCppEngine implements InferenceEngine {
  readonly name = EngineName.llamaCpp;
  readonly slots: number;
  readonly hardware: Hardware;
  readonly #llama: Llama;
  readonly #loaded: ReadonlyMap<string, LoadedModel>;
  /** Aborted by dispose, which then waits for the warm-up to let go of its sequence. */
  readonly #stopWarmUp = new AbortController();
  #warmUp: Promise<ReadonlyMap<string, number>> | undefined;
  #disposed = false;

  private constructor(llama: Llama, hardware: Hardware, loaded: readonly LoadedModel[]) {
    this.#llama = llama;
    this.hardware = hardware;
    this.#loaded = new Map(loaded.map((m) => [m.info.id, m]));
    this.slots = loaded.reduce((sum, m) => sum + m.context.totalSequences, 0);
  }

  /** Each model's tokens/s is 0 (not measured) until warmUp has timed it. */
  get models(): readonly ModelInfo[] {
    return [...this.#loaded.values()].map((m) => m.info);
  }

  /**
   * Estimates every model's memory before loading any, refuses (ModelLoadError)
   * a model that cannot fit even with one slot, and gives each model as many of
   * the wanted slots as fit.
   */
  static async load(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
    const llama = await getLlama({ gpu: options.gpu ?? "auto", logLevel: LlamaLogLevel.warn });
    const loaded: LoadedModel[] = [];
    try {
      const hardware = await detectHardware(llama);
      const fitted = await fitModels(llama, {
        models: options.models,
        slots: options.slots ?? 2,
        contextSize: options.contextSize,
        memoryLimitBytes: options.memoryLimitBytes,
        logger: options.logger ?? silentLogger,
      });
      for (const { source, modelPath, slots, contextSize } of fitted) {
        loaded.push(
          await loadModel(llama, source, {
            modelPath,
            slots,
            contextSize,
            threads: options.threads ?? defaultThreads(),
          }),
        );
      }
      return new LlamaCppEngine(llama, hardware, loaded);
    } catch (error) {
      for (const m of loaded) await m.model.dispose();
      await llama.dispose();
      throw error;
    }
  }

  /**
   * What loading leaves for after joining, model by model: resolving its chat
   * template (see LoadedModel.chatWrapper) and timing a short greedy generation
   * to set its tokens/s, which load leaves at 0, "not measured". Resolves with
   * the measured figures (0 where the answer ended at once).
   *
   * Not part of load because neither is needed to serve: the edge ranks a model
   * of unknown speed as one of median speed, and a chat job that comes first
   * resolves its template itself. Run before joining, they held it back (on a
   * busy CPU most of all). A probe holds one of its model's sequences for about
   * 16 tokens; a job that finds none free meanwhile waits for one. Called again,
   * it returns the same run; dispose stops it, and what it did not reach stays unmeasured.
   */
  warmUp(): Promise<ReadonlyMap<string, number>> {
    this.#warmUp ??= this.#warmUpModels();
    return this.#warmUp;
  }

  async #warmUpModels(): Promise<ReadonlyMap<string, number>> {
    const signal = this.#stopWarmUp.signal;
    const speeds = new Map<string, number>();
    for (const loaded of this.#loaded.values()) {
      // A turn of the event loop between models, so job frames and pings get through.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) break;
      loaded.chatWrapper();
      // It rejects only when dispose aborted the wait for a sequence.
      const sequence = await loaded.sequences.acquire(signal).catch(() => undefined);
      if (!sequence) break;
      let tokensPerSecond: number;
      try {
        tokensPerSecond = await measureTokensPerSecond(sequence, signal);
      } finally {
        await loaded.sequences.release(sequence);
      }
      if (signal.aborted) break;
      loaded.info = { ...loaded.info, tokensPerSecond };
      speeds.set(loaded.info.id, tokensPerSecond);
    }
    return speeds;
  }

  /** The compute backend in use, e.g. `cuda`, or `false` for CPU. */
  get gpu(): Llama["gpu"] {
    return this.#llama.gpu;
  }

  /** Free VRAM now, for heartbeats; undefined on CPU. */
  async freeVramBytes(): Promise<number | undefined> {
    if (this.#disposed || this.#llama.gpu === false) return undefined;
    return (await this.#llama.getVramState()).free;
  }

  async generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    if (this.#disposed) throw new EngineError(WireErrorCode.engineFailure, "engine is shut down", true);
    const loaded = this.#loaded.get(request.model);
    if (!loaded) throw new EngineError(WireErrorCode.unknownModel, `this node does not serve ${request.model}`, true);
    const { context, model } = loaded;

    // Before a sequence is taken: a schema that cannot compile fails fast and holds no slot.
    const shape = await answerShapeOf(this.#llama, request);
    const system = shape.kind === "text" ? undefined : toolPrompt(shape.tools, request.toolChoice);
    const prompt = buildPrompt(model, loaded.chatWrapper(), request.input, system);
    const needed = prompt.tokens.length + (request.sampling.maxTokens ?? 1);
    if (needed > context.contextSize) {
      // Retryable: a node with a longer context may well fit it.
      throw new EngineError(
        WireErrorCode.contextLengthExceeded,
        `prompt of ${prompt.tokens.length} tokens plus ${request.sampling.maxTokens ?? 1} to generate exceeds ${request.model}'s context of ${context.contextSize} tokens on this node`,
        true,
      );
    }
    const sequence = await loaded.sequences.acquire(options.signal);
    try {
      const output = new ToolCallOutput(shape, options.onPiece);
      const result = await generateOnSequence(
        sequence,
        prompt,
        request.sampling,
        { signal: options.signal, onPiece: (p) => output.push(p), tokenSignals: request.tokenSignals === true },
        shape.grammar,
      );
      return output.finish(result);
    } finally {
      await loaded.sequences.release(sequence);
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stopWarmUp.abort();
    // The probe's sequence must be back before its context is freed; the warm-up's caller hears how it ended.
    await this.#warmUp?.catch(() => undefined);
    for (const { context, model } of this.#loaded.values()) {
      await context.dispose();
      await model.dispose();
    }
    await this.#llama.dispose();
  }
}
