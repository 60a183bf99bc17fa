import type { ModelRecord } from "@mlc-ai/web-llm";

/** The fields of WebLLM's `ModelRecord` the choice reads; `prebuiltAppConfig.model_list` entries fit. */
export type WebllmRecordLike = Pick<
  ModelRecord,
  | "model_id"
  | "vram_required_MB"
  | "low_resource_required"
  | "buffer_size_required_bytes"
  | "required_features"
  | "model_type"
  | "overrides"
>;

/** What a WebGPU adapter (and `navigator.deviceMemory`) tells about the device; a `GPUAdapter` fits. */
export interface AdapterFacts {
  features: ReadonlySet<string>;
  limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
  /** `navigator.deviceMemory`: RAM in GiB, bucketed and capped at 8 by Chrome; absent in Firefox and Safari. */
  deviceMemoryGb?: number;
}

export interface ChooseOptions {
  /** The pool's allow-list of model ids; empty or absent allows every prebuilt model. */
  allow?: readonly string[];
  /** Ids this device must not try again (they failed here), or the volunteer turned off. Default none. */
  exclude?: readonly string[];
  /** GPU memory the volunteer lends, in MB; replaces the estimate below. Default: estimated. */
  vramBudgetMB?: number;
}

export interface WebllmCandidate<R extends WebllmRecordLike = WebllmRecordLike> {
  modelId: string;
  vramMB: number;
  parameters: number;
  lowResource: boolean;
  record: R;
}

export interface WebllmChoice<R extends WebllmRecordLike = WebllmRecordLike> {
  /** Models that fit, the one to load first at the head. */
  candidates: WebllmCandidate<R>[];
  /** Every record (or allow-listed id) left out, with a reason the page can show as it is. */
  excluded: { modelId: string; reason: string }[];
  budgetMB: number;
  lowMemory: boolean;
}

const MiB = 1024 * 1024;
/** tvmjs's `detectGPUDevice` refuses adapters below these limits, whatever the model. */
const RUNTIME_MIN_BUFFER = 256 * MiB;
const RUNTIME_MIN_BINDING = 128 * MiB;
/** WebLLM's own examples treat a storage binding limit under 1 GiB as a phone-class GPU. */
const PHONE_CLASS_LIMIT = 1024 * MiB;
const EMBEDDING_MODEL_TYPE = 1; // ModelType.embedding; the enum is a value import we do not need here

/**
 * GPU memory a tab may fill, in MB. WebGPU does not expose total VRAM, and
 * `maxBufferSize` only bounds one buffer, so the estimate is deliberately low:
 * half of `navigator.deviceMemory` (integrated GPUs, phones and Apple silicon
 * share RAM with the OS and the browser; Chrome caps the figure at 8, so a
 * discrete GPU is underestimated at 4 GB, which costs a smaller model, never a
 * crash), 4 GB where the browser does not say, and at most 2 GB on phone-class
 * limits. Low memory (2 GB or less) puts `low_resource_required` models first.
 */
export function gpuMemoryBudget(adapter: AdapterFacts, override?: number): { budgetMB: number; lowMemory: boolean } {
  const { maxBufferSize, maxStorageBufferBindingSize } = adapter.limits;
  const phoneClass = Math.min(maxBufferSize, maxStorageBufferBindingSize) < PHONE_CLASS_LIMIT;
  const fromRam = adapter.deviceMemoryGb !== undefined && adapter.deviceMemoryGb > 0 ? (adapter.deviceMemoryGb * 1024) / 2 : 4096;
  const budgetMB = override ?? (phoneClass ? Math.min(fromRam, 2048) : fromRam);
  return { budgetMB, lowMemory: phoneClass || budgetMB <= 2048 };
}

/** The WebLLM models this device can run, ranked largest first, and why each other one is left out. */
export function chooseWebllmModel<R extends WebllmRecordLike>(
  adapter: AdapterFacts,
  records: readonly R[],
  options: ChooseOptions = {},
): WebllmChoice<R> {
  const { budgetMB, lowMemory } = gpuMemoryBudget(adapter, options.vramBudgetMB);
  const allow = options.allow && options.allow.length > 0 ? new Set(options.allow) : undefined;
  const exclude = new Set(options.exclude ?? []);
  const largestBuffer = Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize);
  const runtimeFits =
    adapter.limits.maxBufferSize >= RUNTIME_MIN_BUFFER && adapter.limits.maxStorageBufferBindingSize >= RUNTIME_MIN_BINDING;
  const candidates: WebllmCandidate<R>[] = [];
  const excluded: WebllmChoice["excluded"] = [];

  for (const record of records) {
    const reason = exclusionReason(record, { allow, exclude, runtimeFits, largestBuffer, budgetMB, features: adapter.features });
    if (reason) excluded.push({ modelId: record.model_id, reason });
    else
      candidates.push({
        modelId: record.model_id,
        vramMB: record.vram_required_MB ?? 0,
        parameters: estimateParameters(record),
        lowResource: record.low_resource_required === true,
        record,
      });
  }
  const known = new Set(records.map((record) => record.model_id));
  for (const id of allow ?? []) {
    if (!known.has(id)) excluded.push({ modelId: id, reason: "on this pool's list, but not a model this version of WebLLM knows" });
  }
  candidates.sort(
    (a, b) =>
      (lowMemory ? Number(b.lowResource) - Number(a.lowResource) : 0) ||
      b.parameters - a.parameters ||
      contextOf(b.record) - contextOf(a.record) ||
      // Same size and context: the smaller footprint decodes faster and leaves the device room.
      a.vramMB - b.vramMB ||
      a.modelId.localeCompare(b.modelId),
  );
  return { candidates, excluded, budgetMB, lowMemory };
}

interface Limits {
  allow: Set<string> | undefined;
  exclude: Set<string>;
  runtimeFits: boolean;
  largestBuffer: number;
  budgetMB: number;
  features: ReadonlySet<string>;
}

function exclusionReason(record: WebllmRecordLike, limits: Limits): string | undefined {
  const id = record.model_id;
  if (limits.exclude.has(id)) return "set aside on this device";
  if (limits.allow && !limits.allow.has(id)) return "not on this pool's list";
  if (record.model_type === EMBEDDING_MODEL_TYPE) return "an embedding model; it cannot write answers";
  // Only the features a record lists are needed: WebLLM itself checks exactly this list at load.
  const missing = (record.required_features ?? []).filter((feature) => !limits.features.has(feature));
  if (missing.length > 0) return `needs ${missing.join(" and ")}, which this GPU lacks`;
  if (!limits.runtimeFits) return "this GPU's buffer limits are below what WebLLM needs for any model";
  const buffer = record.buffer_size_required_bytes ?? 0;
  if (buffer > limits.largestBuffer) return `needs a single GPU buffer of ${mb(buffer)} MB; this GPU allows ${mb(limits.largestBuffer)} MB`;
  if (record.vram_required_MB === undefined) return "WebLLM does not say how much GPU memory it needs";
  if (record.vram_required_MB > limits.budgetMB) {
    return `needs ${gb(record.vram_required_MB)} GB of GPU memory; this device can likely spare about ${gb(limits.budgetMB)} GB`;
  }
  return undefined;
}

const mb = (bytes: number) => Math.round(bytes / MiB);
const gb = (megabytes: number) => Number((megabytes / 1024).toFixed(1)).toString();

/** The context window the record configures, in tokens; 0 where it leaves it to the model's own config. */
export function contextOf(record: WebllmRecordLike): number {
  const size = record.overrides?.context_window_size;
  return size !== undefined && size > 0 ? size : 0;
}

/** Ids that name no size, with their published weight counts. */
const FAMILY_SIZES: readonly (readonly [RegExp, number])[] = [
  [/^phi-1_5/i, 1.4e9],
  [/^phi-2\b/i, 2.7e9],
  [/^phi-3(\.5)?-mini/i, 3.8e9],
  [/^phi-3\.5-vision/i, 4.2e9],
  [/^phi-4-mini/i, 3.8e9],
];

/**
 * Weights in a model, read from its id: "Qwen2.5-0.5B-…" → 5e8, "SmolLM2-360M-…"
 * → 3.6e8, "stablelm-2-zephyr-1_6b-…" → 1.6e9, "gemma-4-E2B-…" → 2e9 (Google's
 * effective size). Undefined where the id names none and the family is unknown.
 */
export function parametersOf(modelId: string): number | undefined {
  const size = /(?:^|-)E?(\d+(?:[._]\d+)?)([BM])(?=-|$)/i.exec(modelId);
  if (size) {
    const value = Number(size[1]!.replace("_", "."));
    return Math.round(value * (size[2]!.toUpperCase() === "B" ? 1e9 : 1e6));
  }
  return FAMILY_SIZES.find(([pattern]) => pattern.test(modelId))?.[1];
}

/** WebLLM's quantization code in an id, e.g. `q4f16_1`, `q0f32`; undefined where there is none. */
export function quantizationOf(modelId: string): string | undefined {
  return /(?:^|-)(q\d+f\d+(?:_\d+)?)(?=-|$)/i.exec(modelId)?.[1]?.toLowerCase();
}

/**
 * `parametersOf`, or for an id that names no size a rough count from the
 * record's memory: about half of `vram_required_MB` is weights (the rest is KV
 * cache and scratch at WebLLM's default context), at the id's bits per weight.
 */
export function estimateParameters(record: WebllmRecordLike): number {
  const named = parametersOf(record.model_id);
  if (named !== undefined) return named;
  // `q4f16_1`: 4-bit weights; `q0f32`: unquantized 32-bit floats.
  const [, weightBits, floatBits] = /^q(\d+)f(\d+)/.exec(quantizationOf(record.model_id) ?? "") ?? [];
  const bits = weightBits && weightBits !== "0" ? Number(weightBits) : floatBits ? Number(floatBits) : 4;
  return Math.max(1, Math.round(((record.vram_required_MB ?? 0) * MiB * 0.5) / (bits / 8)));
}
