import { formatBytes } from "./format-bytes.ts";

/** One model to fit, with its estimated footprint. */
export interface ModelToFit {
  id: string;
  weightsBytes: number;
  contextSize: number;
  contextBytes(sequences: number): Promise<number>;
}

export interface MemoryPlanOptions {
  /** Bytes the models may use in all. */
  budgetBytes: number;
  /** Where the budget came from, for messages, e.g. `free VRAM` or `--memory-limit`. */
  budgetName: string;
  /** Slots (context sequences) wanted per model. */
  slots: number;
}

export interface PlannedModel {
  id: string;
  /** Slots that fit, 1 to the number wanted. */
  slots: number;
  /** Estimated bytes with those slots. */
  bytes: number;
}

export type MemoryPlan = { ok: true; models: PlannedModel[] } | { ok: false; modelId: string; message: string };

/**
 * Decides, before anything loads, how many slots each model gets so that all
 * of them fit the budget. Every model first gets its weights and one slot, in
 * the order given; a model that cannot have even that is refused, by name.
 * What is left then goes to more slots, model by model up to the number wanted,
 * so one large first model cannot starve the others of their single slot.
 */
export async function planMemory(models: readonly ModelToFit[], options: MemoryPlanOptions): Promise<MemoryPlan> {
  const planned: PlannedModel[] = [];
  let used = 0;
  for (const model of models) {
    const oneSlot = await model.contextBytes(1);
    const needed = model.weightsBytes + oneSlot;
    if (used + needed > options.budgetBytes)
      return { ok: false, modelId: model.id, message: tooLarge(model, needed, oneSlot, used, options) };
    used += needed;
    planned.push({ id: model.id, slots: 1, bytes: needed });
  }
  for (const [index, model] of models.entries()) {
    const plan = planned[index]!;
    const oneSlot = plan.bytes - model.weightsBytes;
    const left = options.budgetBytes - used;
    // Context memory grows with sequences; the largest count that fits, found by bisection.
    let low = 1;
    let high = options.slots;
    let bytesAtLow = oneSlot;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const bytes = await model.contextBytes(mid);
      if (bytes - oneSlot <= left) {
        low = mid;
        bytesAtLow = bytes;
      } else high = mid - 1;
    }
    used += bytesAtLow - oneSlot;
    planned[index] = { id: model.id, slots: low, bytes: model.weightsBytes + bytesAtLow };
  }
  return { ok: true, models: planned };
}

function tooLarge(model: ModelToFit, needed: number, oneSlot: number, used: number, options: MemoryPlanOptions): string {
  const free = Math.max(0, options.budgetBytes - used);
  const others = used > 0 ? ` after the ${formatBytes(used)} the models before it take` : "";
  return (
    `${model.id} does not fit: it needs about ${formatBytes(needed)} (weights ${formatBytes(model.weightsBytes)}, ` +
    `one slot of ${model.contextSize} tokens ${formatBytes(oneSlot)}), but only ${formatBytes(free)} of ${options.budgetName} is left${others}. ` +
    `Try a smaller quantization of it (e.g. Q4_K_M instead of F16 or Q8_0), fewer models or slots (--slots), or a smaller --context-size.`
  );
}
