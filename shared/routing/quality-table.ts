/**
 * Public benchmark figures (MMLU, 5-shot, %) for model families people run with
 * llama.cpp and WebLLM, each with the document it comes from. The ladder orders
 * rungs by these scores; operators override any of them in `policy.quality`.
 */
export interface QualityFigure {
  /** Matches the model id after `normalizeId` (lower case, `_` and spaces as `-`). */
  pattern: RegExp;
  family: string;
  score: number;
  source: { title: string; url: string };
}

export interface Quality {
  score: number;
  /** Where the score comes from, shown in `/v1/models` and traces. */
  source: string;
}

const QWEN25 = { title: "Qwen2.5 Technical Report (base models)", url: "https://arxiv.org/abs/2412.15115" };
const LLAMA32 = {
  title: "Llama 3.2 model card (instruction-tuned)",
  url: "https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md",
};
const LLAMA31 = {
  title: "Llama 3.1 model card (pretrained)",
  url: "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md",
};
const GEMMA2 = {
  title: "Gemma 2: Improving Open Language Models at a Practical Size (pretrained)",
  url: "https://arxiv.org/abs/2408.00118",
};
const PHI3 = { title: "Phi-3 Technical Report", url: "https://arxiv.org/abs/2404.14219" };
const MISTRAL = { title: "Mistral 7B", url: "https://arxiv.org/abs/2310.06825" };

/**
 * `family` names the family and `size` the parameter count as written in ids
 * (`0.5`, `7`); the size must stand alone (`-7b` then a separator or the end), so
 * `3b` never matches `32b` and `2b` never matches `27b`.
 */
function figure(familyPattern: string, size: string, family: string, score: number, source: QualityFigure["source"]): QualityFigure {
  const sizePattern = size.replace(".", "[.-]");
  return { pattern: new RegExp(`${familyPattern}-${sizePattern}b(?![a-z0-9])`), family, score, source };
}

// Version dots may arrive as `-` (`qwen2_5` normalizes to `qwen2-5`); coder and math
// variants are other models and do not match, since the size must follow the family.
const qwen25 = "qwen-?2[.-]5";
const llama32 = "llama-?3[.-]2";
const llama31 = "llama-?3[.-]1";
const gemma2 = "gemma-?2";

export const QUALITY_TABLE: readonly QualityFigure[] = [
  figure(qwen25, "0.5", "Qwen2.5", 47.5, QWEN25),
  figure(qwen25, "1.5", "Qwen2.5", 60.9, QWEN25),
  figure(qwen25, "3", "Qwen2.5", 65.6, QWEN25),
  figure(qwen25, "7", "Qwen2.5", 74.2, QWEN25),
  figure(qwen25, "14", "Qwen2.5", 79.7, QWEN25),
  figure(qwen25, "32", "Qwen2.5", 83.3, QWEN25),
  figure(qwen25, "72", "Qwen2.5", 86.1, QWEN25),
  figure(llama32, "1", "Llama 3.2", 49.3, LLAMA32),
  figure(llama32, "3", "Llama 3.2", 63.4, LLAMA32),
  figure(llama31, "8", "Llama 3.1", 66.7, LLAMA31),
  figure(llama31, "70", "Llama 3.1", 79.3, LLAMA31),
  figure(gemma2, "2", "Gemma 2", 51.3, GEMMA2),
  figure(gemma2, "9", "Gemma 2", 71.3, GEMMA2),
  figure(gemma2, "27", "Gemma 2", 75.2, GEMMA2),
  { pattern: /phi-?3-mini(?![a-z0-9])/, family: "Phi-3", score: 68.8, source: PHI3 },
  figure("mistral", "7", "Mistral", 60.1, MISTRAL),
];

export const ESTIMATED_SOURCE = "estimated from parameter count (no published figure for this model)";

/** Operator scores first, then the shipped table, then an estimate from size. */
export function qualityOf(modelId: string, parameters: number, overrides: Readonly<Record<string, number>> = {}): Quality {
  const override = overrides[modelId];
  if (override !== undefined) return { score: override, source: "operator policy" };
  const known = familyOf(modelId);
  if (known) return { score: known.score, source: `${known.family}: ${known.source.title}, ${known.source.url}` };
  return { score: estimateFromParameters(parameters), source: ESTIMATED_SOURCE };
}

/** Families found per model id: every request's plan scores every rung, and ids repeat. Bounded, since nodes name the ids. */
const FAMILY_CACHE_LIMIT = 1024;
const familyCache = new Map<string, QualityFigure | undefined>();

function familyOf(modelId: string): QualityFigure | undefined {
  if (familyCache.has(modelId)) return familyCache.get(modelId);
  if (familyCache.size >= FAMILY_CACHE_LIMIT) familyCache.clear();
  const id = normalizeId(modelId);
  const family = QUALITY_TABLE.find((f) => f.pattern.test(id));
  familyCache.set(modelId, family);
  return family;
}

/** llama.cpp and WebLLM spell ids differently: `Qwen2.5-0.5B-Instruct-q4f16_1-MLC`, `qwen2.5-0.5b-instruct-q4_k_m`. */
export function normalizeId(modelId: string): string {
  return modelId.toLowerCase().replace(/[_\s]+/g, "-");
}

/**
 * A rough fit to the table above: about 50 at 1B, plus 17 per tenfold size,
 * kept between chance on MMLU's four choices (25) and 90. Older or unknown models
 * usually score below the families listed, so the fit sits a little under them.
 */
export function estimateFromParameters(parameters: number): number {
  const billions = Math.max(parameters, 1) / 1e9;
  const score = 50 + 17 * Math.log10(billions);
  return Math.round(Math.min(90, Math.max(25, score)) * 10) / 10;
}
