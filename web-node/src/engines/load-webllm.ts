import { prebuiltAppConfig } from "@mlc-ai/web-llm";
import { EngineError } from "@rung/shared/node";
import type { LoadProgress } from "./load-progress.ts";
import { WebllmEngine } from "./webllm-engine.ts";

/** Loads one of WebLLM's prebuilt models by id, reporting progress in the page's terms. */
export async function loadWebllm(modelId: string, onProgress: (progress: LoadProgress) => void): Promise<WebllmEngine> {
  const record = prebuiltAppConfig.model_list.find((model) => model.model_id === modelId);
  if (!record) throw new EngineError("model_load_failed", `${modelId} is not in WebLLM's model list`, true);
  const started = performance.now();
  // WebLLM reports a fraction, not bytes; the model's GPU size stands in for the download so the bar and time left still make sense.
  const totalBytes = Math.round(record.vram_required_MB ?? 0) * 1024 ** 2;
  return WebllmEngine.load(record, {
    onProgress: ({ fraction }) =>
      onProgress({ loadedBytes: Math.round(fraction * totalBytes), totalBytes, elapsedMs: performance.now() - started }),
  });
}
