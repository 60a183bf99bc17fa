import type { Capabilities, ModelInfo } from "@rung/shared/protocol";
import { type ChatWrapper, type Llama, type LlamaContext, type LlamaModel, resolveChatWrapper } from "node-llama-cpp";
import { ModelLoadError } from "./model-load-error.ts";
import { quantizationName } from "./quantization-name.ts";
import { SequencePool } from "./sequence-pool.ts";

/**
 * Every GGUF model gets them: JSON and tool calls are enforced by a grammar on
 * the sampler (see answer-shape.ts), not left to the model's training, and the
 * sampler reports each chosen token's probability.
 */
const LLAMA_CPP_CAPABILITIES: Capabilities = { jsonSchema: true, tools: true, logprobs: true };

/** One model the agent serves: `path` is a file path or a `hf:` URI. */
export interface ModelSource {
  id: string;
  path: string;
}

export interface LoadModelOptions {
  /** The model file on disk (see resolveModelPath). */
  modelPath: string;
  /** Context sequences, i.e. jobs this model runs at once, as the memory plan allows. */
  slots: number;
  threads: number;
  /** Tokens per sequence, as estimated (see estimateFootprint). */
  contextSize: number;
}

/**
 * A model ready to serve: weights, a context with one sequence per slot, its chat template.
 * `info.tokensPerSecond` is 0 (not measured) until the engine's warm-up replaces `info`.
 */
export interface LoadedModel {
  info: ModelInfo;
  model: LlamaModel;
  context: LlamaContext;
  /**
   * The chat template, resolved on first use: node-llama-cpp renders the GGUF's Jinja
   * template against every format it knows to find its match, a few hundred ms of CPU
   * that joining need not wait for (the engine's warm-up resolves it after joining).
   */
  chatWrapper(): ChatWrapper;
  sequences: SequencePool;
}

export async function loadModel(llama: Llama, source: ModelSource, options: LoadModelOptions): Promise<LoadedModel> {
  const { modelPath } = options;
  let model: LlamaModel;
  try {
    // Every layer on the GPU when there is one: that is what the memory plan counted.
    model = await llama.loadModel({ modelPath, gpuLayers: llama.gpu === false ? 0 : "max" });
  } catch (error) {
    throw ModelLoadError.because(source.id, `could not load ${modelPath}`, error);
  }
  try {
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: options.slots,
      threads: options.threads,
    });
    const info: ModelInfo = {
      id: source.id,
      parameters: model.fileInsights.totalParameters,
      quantization: quantizationName(model.fileInfo.metadata.general.file_type),
      contextLength: context.contextSize,
      tokensPerSecond: 0,
      slots: context.totalSequences,
      capabilities: LLAMA_CPP_CAPABILITIES,
    };
    let chatWrapper: ChatWrapper | undefined;
    return {
      info,
      model,
      context,
      chatWrapper: () => (chatWrapper ??= resolveChatWrapper(model)),
      sequences: new SequencePool(context),
    };
  } catch (error) {
    await model.dispose();
    throw ModelLoadError.because(source.id, `could not start ${source.id}`, error);
  }
}
