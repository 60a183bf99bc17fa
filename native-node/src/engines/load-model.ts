import { resolveChatWrapper, type ChatWrapper, type Llama, type LlamaContext, type LlamaModel } from "node-llama-cpp";
import type { ModelInfo } from "@rung/shared/protocol";
import { measureTokensPerSecond } from "./measure-speed.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { quantizationName } from "./quantization-name.ts";
import { resolveModelPath } from "./resolve-model-path.ts";
import { SequencePool } from "./sequence-pool.ts";

/** One model the agent serves: `path` is a file path or a `hf:` URI. */
export interface ModelSource {
  id: string;
  path: string;
}

export interface LoadModelOptions {
  /** Context sequences, i.e. jobs this model runs at once. */
  slots: number;
  threads: number;
  /** Tokens per sequence; undefined: the smaller of the trained context and 4096. */
  contextSize: number | undefined;
  measureSpeed: boolean;
}

/** A model ready to serve: weights, a context with one sequence per slot, its chat template. */
export interface LoadedModel {
  info: ModelInfo;
  model: LlamaModel;
  context: LlamaContext;
  chatWrapper: ChatWrapper;
  sequences: SequencePool;
}

/** Cap on the default context: more costs memory for every slot and few requests need it. */
const DEFAULT_MAX_CONTEXT = 4096;

export async function loadModel(llama: Llama, source: ModelSource, options: LoadModelOptions): Promise<LoadedModel> {
  const modelPath = await resolveModelPath(source.id, source.path);
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath });
  } catch (error) {
    throw ModelLoadError.because(source.id, `could not load ${modelPath}`, error);
  }
  try {
    const context = await model.createContext({
      contextSize: options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT),
      sequences: options.slots,
      threads: options.threads,
    });
    const tokensPerSecond = options.measureSpeed ? await measureTokensPerSecond(context) : 0;
    const info: ModelInfo = {
      id: source.id,
      parameters: model.fileInsights.totalParameters,
      quantization: quantizationName(model.fileInfo.metadata.general.file_type),
      contextLength: context.contextSize,
      tokensPerSecond,
      slots: context.totalSequences,
    };
    return { info, model, context, chatWrapper: resolveChatWrapper(model), sequences: new SequencePool(context) };
  } catch (error) {
    await model.dispose();
    throw ModelLoadError.because(source.id, `could not start ${source.id}`, error);
  }
}
