import { GgufInsights, type Llama, readGgufFileInfo } from "node-llama-cpp";

/** What one model will take in memory, from node-llama-cpp's estimates, before anything is loaded. */
export interface Footprint {
  /** The model's weights in the memory it loads into (VRAM with a GPU, RAM without). */
  weightsBytes: number;
  /** Tokens per sequence the context will have. */
  contextSize: number;
  /** A context with this many sequences, including its KV cache and compute buffers. */
  contextBytes(sequences: number): Promise<number>;
}

/** Cap on the default context: more costs memory for every slot and few requests need it. */
export const DEFAULT_MAX_CONTEXT = 4096;

/**
 * Reads the GGUF header (not the weights) and asks node-llama-cpp's
 * GgufInsights what loading it would cost. With a GPU every layer is counted
 * on the GPU, since the engine offloads them all.
 *
 * @param contextSize Tokens per sequence; undefined: the smaller of the trained context and 4096.
 */
export async function estimateFootprint(llama: Llama, modelPath: string, contextSize: number | undefined): Promise<Footprint> {
  const insights = await GgufInsights.from(await readGgufFileInfo(modelPath, { logWarnings: false }), llama);
  const onGpu = llama.gpu !== false;
  // Every layer (totalLayers counts the output layer too) on the GPU, as loadModel's "max" does, or none.
  const gpuLayers = onGpu ? insights.totalLayers : 0;
  const pick = (r: { cpuRam: number; gpuVram: number }) => (onGpu ? r.gpuVram : r.cpuRam);
  const size = contextSize ?? Math.min(insights.trainContextSize ?? DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT);
  return {
    weightsBytes: pick(await insights.estimateModelResourceRequirementsV2({ gpuLayers })),
    contextSize: size,
    contextBytes: async (sequences) =>
      pick(await insights.estimateContextResourceRequirementsV2({ contextSize: size, modelGpuLayers: gpuLayers, sequences })),
  };
}
