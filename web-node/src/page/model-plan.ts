import type { BrowserModel, DonateConfig } from "@rung/shared/protocol";
import type { GpuReport, WebllmCandidate, WebllmExclusion } from "../worker/worker-messages.ts";

/** What the page knows about the machine before loading anything. */
export interface DeviceFacts {
  cores: number;
  /** `navigator.deviceMemory`: RAM in GB, rounded down and capped at 8 by Chrome; absent in other browsers. */
  memoryGb?: number;
  /** Cross-origin isolated pages may share memory between threads, which wllama needs for more than one. */
  crossOriginIsolated: boolean;
  /** Threads the donor asked for (`?threads=N`); default half the cores, leaving the rest to them. */
  requestedThreads?: number;
}

export interface WebgpuSurvey {
  gpu: GpuReport | null;
  candidates: WebllmCandidate[];
  excluded: WebllmExclusion[];
  gpuError?: string;
}

export type ModelChoice =
  | { engine: "webllm"; id: string; sizeBytes: number }
  | { engine: "wllama"; id: string; sizeBytes: number | undefined; model: BrowserModel; threads: number };

export interface ModelPlan {
  /** Best first: the largest WebGPU model that fits, then GGUF models on the CPU, largest first. */
  choices: ModelChoice[];
  /** Why models were left out, in words for the donor. */
  notes: string[];
}

const GB = 1024 ** 3;
/** When the browser does not say how much memory it has. */
const ASSUMED_MEMORY_GB = 4;
/** A tab may take half the machine's memory for weights and context; the rest is the donor's. */
const MEMORY_SHARE = 0.5;

/**
 * The models this tab could serve, best first; the page proposes the first
 * and falls back down the list when one fails. `sizes` holds download sizes
 * the page learned from the server for models whose policy entry has none.
 */
export function planModels(config: DonateConfig, survey: WebgpuSurvey, device: DeviceFacts, sizes: ReadonlyMap<string, number>): ModelPlan {
  const notes: string[] = [];
  const choices: ModelChoice[] = survey.candidates.map((candidate) => ({
    engine: "webllm",
    id: candidate.modelId,
    sizeBytes: candidate.vramMB * 1024 ** 2,
  }));
  if (!survey.gpu)
    notes.push(`No usable WebGPU adapter${survey.gpuError ? ` (${survey.gpuError})` : ""}: this tab would run models on its CPU.`);
  else if (choices.length === 0 && survey.excluded.length > 0)
    notes.push(`None of the GPU models fit: ${survey.excluded.map((e) => `${e.modelId}: ${e.reason}`).join("; ")}.`);

  const budget = (device.memoryGb ?? ASSUMED_MEMORY_GB) * GB * MEMORY_SHARE;
  const threads = device.crossOriginIsolated
    ? Math.max(1, Math.min(device.cores, device.requestedThreads ?? Math.floor(device.cores / 2)))
    : 1;
  const gguf = config.ggufModels
    .map((model) => ({ model, sizeBytes: model.sizeBytes ?? sizes.get(model.id) }))
    .sort((a, b) => (b.sizeBytes ?? 0) - (a.sizeBytes ?? 0));
  for (const { model, sizeBytes } of gguf) {
    if (sizeBytes !== undefined && sizeBytes > budget) {
      notes.push(`${model.id} needs about ${Math.ceil(sizeBytes / GB)} GB; this tab keeps to ${Math.round(budget / GB)} GB.`);
      continue;
    }
    choices.push({ engine: "wllama", id: model.id, sizeBytes, model, threads });
  }
  if (config.ggufModels.length === 0) notes.push("This pool lists no models for browsers without WebGPU.");
  return { choices, notes };
}

/**
 * Where to go after `failed` broke: a smaller model on the same engine when the
 * model was too big for the device, the CPU engine when the GPU itself is the
 * problem, or nothing when no choice is left.
 */
export function fallbackAfter(
  choices: readonly ModelChoice[],
  failed: ModelChoice,
  recovery: "smaller-model" | "cpu-engine",
): ModelChoice | undefined {
  const rest = choices.slice(choices.indexOf(failed) + 1);
  if (recovery === "cpu-engine") return rest.find((choice) => choice.engine === "wllama");
  return rest[0];
}
