import type { Llama } from "node-llama-cpp";
import type { Logger } from "../log/logger.ts";
import { freeMemoryBytes } from "./detect-hardware.ts";
import { estimateFootprint } from "./estimate-footprint.ts";
import { formatBytes } from "./format-bytes.ts";
import type { ModelSource } from "./load-model.ts";
import { memoryBudget } from "./memory-budget.ts";
import { ModelLoadError } from "./model-load-error.ts";
import { planMemory } from "./plan-memory.ts";
import { resolveModelPath } from "./resolve-model-path.ts";

export interface FitOptions {
  models: readonly ModelSource[];
  /** Slots wanted per model. */
  slots: number;
  /** Tokens per slot; undefined: the smaller of the trained context and 4096. */
  contextSize: number | undefined;
  /** Replaces the detected free memory as the budget, up to what is free. */
  memoryLimitBytes: number | undefined;
  logger: Logger;
}

/** A model ready to load the way the memory plan allows. */
export interface FittedModel {
  source: ModelSource;
  modelPath: string;
  slots: number;
  contextSize: number;
}

/**
 * Resolves every model file, estimates what each needs, and plans the slots
 * against the free memory (or the given limit) before any model loads, so a
 * model that cannot fit is refused in seconds rather than after the others
 * have loaded, and never by the driver running out of memory mid-load.
 */
export async function fitModels(llama: Llama, options: FitOptions): Promise<FittedModel[]> {
  const resolved = [];
  for (const source of options.models) {
    const modelPath = await resolveModelPath(source.id, source.path);
    try {
      resolved.push({ source, modelPath, ...(await estimateFootprint(llama, modelPath, options.contextSize)) });
    } catch (error) {
      throw ModelLoadError.because(source.id, `could not read ${modelPath} as a GGUF model`, error);
    }
  }

  const kind = llama.gpu === false ? "RAM" : "VRAM";
  const budget = memoryBudget(options.memoryLimitBytes, await freeMemoryBytes(llama), kind);
  if (budget.warning) options.logger.warn(budget.warning);
  const plan = await planMemory(
    resolved.map((m) => ({ id: m.source.id, weightsBytes: m.weightsBytes, contextSize: m.contextSize, contextBytes: m.contextBytes })),
    { budgetBytes: budget.bytes, budgetName: budget.name, slots: options.slots },
  );
  if (!plan.ok) throw new ModelLoadError(plan.modelId, plan.message);

  return resolved.map((m, index) => {
    const { slots, bytes } = plan.models[index]!;
    if (slots < options.slots) {
      options.logger.warn(
        `${m.source.id}: ${options.slots} slots of ${m.contextSize} tokens do not fit in ${budget.name}; serving ${slots} at once. Free memory or lower --context-size for more.`,
      );
    }
    options.logger.info(
      `${m.source.id}: ${slots} slot${slots === 1 ? "" : "s"} of ${m.contextSize} tokens, about ${formatBytes(bytes)} of ${kind}`,
    );
    return { source: m.source, modelPath: m.modelPath, slots, contextSize: m.contextSize };
  });
}
