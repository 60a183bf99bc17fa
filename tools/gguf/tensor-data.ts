/**
 * Seeded random weights of a generated test model, from integer PRNG maths and float32 rounding
 * only, so the same options give the same bytes on every machine.
 */
import { seededRandom } from "@rung/shared/routing";
import { isPrintable, TOKENS } from "./llama-vocab.ts";
import type { ResolvedOptions } from "./test-model-options.ts";

/** FNV-1a, to give every tensor its own stream so tensors don't shift when shapes change. */
function hashString(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Approximately N(0, std²): Irwin-Hall sum of 4 uniforms (variance 1/3, hence
 * the sqrt(3)). Avoids Math.log/cos, whose last bits may differ between engines.
 */
function normals(count: number, std: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const k = std * Math.sqrt(3);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() + rand() + rand() + rand() - 2) * k;
  return out;
}

/**
 * Hidden dimension 0 carries a constant (BIAS_VALUE) through the whole network:
 * every embedding has it, and no layer writes to it (row 0 of attn_output and
 * ffn_down is zero). After output_norm it is still strictly positive, so a
 * negative weight in that column acts as a logit bias — llama has no output bias.
 */
const BIAS_VALUE = 1;
/** Weight on the bias dimension for tokens that must never be sampled. */
const FORBIDDEN_LOGIT_WEIGHT = -100;
/** End tokens get small random rows: rarely the argmax, but sampling can end a reply. */
const END_ROW_SCALE = 0.5;

/** The seeded weights of one tensor: deterministic for the same options, name and shape. */
export function tensorData(r: ResolvedOptions, name: string, dims: readonly number[]): Float32Array {
  const [cols, rows = 1] = dims; // cols = ne[0] = fan_in of a matrix
  const count = cols! * rows;
  const seed = hashString(name, r.seed);
  if (dims.length === 1) return new Float32Array(count).fill(1); // RMS-norm weights

  if (name === "token_embd.weight") {
    const w = normals(count, 1, seed);
    for (let v = 0; v < rows; v++) w[v * cols!] = BIAS_VALUE;
    return w;
  }

  if (name === "output.weight") {
    const w = normals(count, r.outputScale / Math.sqrt(cols!), seed);
    for (let v = 0; v < rows; v++) {
      const row = w.subarray(v * cols!, (v + 1) * cols!);
      if (isPrintable(v)) {
        row[0] = 0;
      } else if (v === TOKENS.eos || v === TOKENS.imEnd) {
        for (let j = 0; j < cols!; j++) row[j] = row[j]! * END_ROW_SCALE;
        row[0] = 0;
      } else {
        // Non-printable bytes would be invalid UTF-8 (which crashes wllama), so
        // push these logits far below anything else.
        row.fill(0);
        row[0] = FORBIDDEN_LOGIT_WEIGHT;
      }
    }
    return w;
  }

  // Scale ~ 1/sqrt(fan_in) keeps activations around unit size through the blocks.
  const w = normals(count, 1 / Math.sqrt(cols!), seed);
  if (name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight")) {
    w.fill(0, 0, cols!); // output row 0 feeds hidden dim 0: keep the bias dimension untouched
  }
  return w;
}
