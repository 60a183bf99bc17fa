/** The shape of a generated test model: its options and their defaults, its tensors, its parameter count. */
import { VOCAB_SIZE } from "./llama-vocab.ts";

export interface TestModelOptions {
  /** PRNG seed; different seeds give different weights. @default 1 */
  seed?: number;
  /** Hidden size (n_embd). Must be divisible by `heads`. @default 64 */
  embeddingLength?: number;
  /** Number of transformer blocks. @default 2 */
  layers?: number;
  /** Attention heads. head_dim = embeddingLength / heads must be even (RoPE). @default 4 */
  heads?: number;
  /** Key/value heads (GQA). Must divide `heads`. @default heads */
  kvHeads?: number;
  /** FFN hidden size. @default 4 * embeddingLength */
  feedForwardLength?: number;
  /** Trained context length written to `llama.context_length`. @default 2048 */
  contextLength?: number;
  /**
   * Multiplies the `output.weight` rows: logits have a standard deviation of
   * roughly `outputScale`, so large values make a confident model, small ones
   * an unsure one. @default 1
   */
  outputScale?: number;
  /** Storage type of the matrices; norms stay F32 regardless. @default "f32" */
  type?: "f32" | "f16";
  /** `general.name`. @default "rung-test" */
  name?: string;
}

export type ResolvedOptions = Required<TestModelOptions>;

/** Fills in the defaults and checks that the shape can be built. */
export function resolveOptions(options: TestModelOptions = {}): ResolvedOptions {
  const embeddingLength = options.embeddingLength ?? 64;
  const heads = options.heads ?? 4;
  const r: ResolvedOptions = {
    seed: options.seed ?? 1,
    embeddingLength,
    layers: options.layers ?? 2,
    heads,
    kvHeads: options.kvHeads ?? heads,
    feedForwardLength: options.feedForwardLength ?? 4 * embeddingLength,
    contextLength: options.contextLength ?? 2048,
    outputScale: options.outputScale ?? 1,
    type: options.type ?? "f32",
    name: options.name ?? "rung-test",
  };
  const positive = ["embeddingLength", "layers", "heads", "kvHeads", "feedForwardLength", "contextLength"] as const;
  for (const k of positive) {
    if (!Number.isInteger(r[k]) || r[k] <= 0) throw new Error(`${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.embeddingLength % r.heads !== 0) throw new Error("embeddingLength must be divisible by heads");
  if ((r.embeddingLength / r.heads) % 2 !== 0) throw new Error("head dimension must be even for RoPE");
  if (r.heads % r.kvHeads !== 0) throw new Error("kvHeads must divide heads");
  if (r.type !== "f32" && r.type !== "f16") throw new Error(`type must be f32 or f16, got ${r.type}`);
  if (!Number.isFinite(r.outputScale)) throw new Error("outputScale must be finite");
  return r;
}

/** Tensor names and ggml dims (ne[0] fastest), in file order. */
export function tensorShapes(r: ResolvedOptions): Array<{ name: string; dims: [number] | [number, number] }> {
  const embd = r.embeddingLength;
  const embdKv = (embd / r.heads) * r.kvHeads;
  const ff = r.feedForwardLength;
  const shapes: Array<{ name: string; dims: [number] | [number, number] }> = [
    { name: "token_embd.weight", dims: [embd, VOCAB_SIZE] },
    { name: "output_norm.weight", dims: [embd] },
    { name: "output.weight", dims: [embd, VOCAB_SIZE] },
  ];
  for (let i = 0; i < r.layers; i++) {
    const p = `blk.${i}.`;
    shapes.push(
      { name: `${p}attn_norm.weight`, dims: [embd] },
      { name: `${p}attn_q.weight`, dims: [embd, embd] },
      { name: `${p}attn_k.weight`, dims: [embd, embdKv] },
      { name: `${p}attn_v.weight`, dims: [embd, embdKv] },
      { name: `${p}attn_output.weight`, dims: [embd, embd] },
      { name: `${p}ffn_norm.weight`, dims: [embd] },
      { name: `${p}ffn_gate.weight`, dims: [embd, ff] },
      { name: `${p}ffn_up.weight`, dims: [embd, ff] },
      { name: `${p}ffn_down.weight`, dims: [ff, embd] },
    );
  }
  return shapes;
}

/**
 * Parameter count = sum of tensor element counts. Matches node-llama-cpp's
 * `model.fileInsights.totalParameters` and llama.cpp's `llama_model_n_params`.
 */
export function parameterCount(options: TestModelOptions = {}): number {
  return tensorShapes(resolveOptions(options)).reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
}
