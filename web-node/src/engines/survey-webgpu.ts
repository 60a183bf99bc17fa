/// <reference types="@webgpu/types" />
import type { WorkerToPage } from "../worker/worker-messages.ts";
import { chooseWebllmModel } from "./choose-webllm-model.ts";

/**
 * What this browser's WebGPU can run, asked from the worker where the engine
 * will run: the adapter, and WebLLM's prebuilt models that fit it (the pool's
 * allow-list applied), largest first.
 */
export async function surveyWebgpu(allow: readonly string[], deviceMemoryGb?: number): Promise<Extract<WorkerToPage, { type: "survey" }>> {
  const none = (gpuError: string) => ({ type: "survey" as const, gpu: null, candidates: [], excluded: [], gpuError });
  if (!("gpu" in navigator) || !navigator.gpu) return none("this browser has no WebGPU");
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return none(error instanceof Error ? error.message : String(error));
  }
  if (!adapter) return none("WebGPU found no adapter");
  // WebLLM's model list comes with its library, which a tab without a GPU never needs to fetch.
  const { prebuiltAppConfig } = await import("@mlc-ai/web-llm");
  const info = adapter.info;
  const choice = chooseWebllmModel(
    { features: adapter.features, limits: adapter.limits, ...(deviceMemoryGb !== undefined && { deviceMemoryGb }) },
    prebuiltAppConfig.model_list,
    { allow },
  );
  return {
    type: "survey",
    gpu: {
      description: [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ") || "WebGPU adapter",
      features: [...adapter.features],
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
    candidates: choice.candidates.map(({ modelId, vramMB, parameters }) => ({ modelId, vramMB, parameters })),
    excluded: choice.excluded,
  };
}
