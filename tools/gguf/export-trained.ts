/**
 * Turn the weights `npm run train` exported from PyTorch into the committed GGUF fixtures.
 *
 *   tsx tools/gguf/export-trained.ts [--work tools/train/out] [--out tests/fixtures/trained]
 *
 * Reads `<work>/plan.json` (written by tools/train/train_all.py) and, per model,
 * `<work>/<id>.json` + `<id>.bin` (float32 tensors in GGUF order, PyTorch layout:
 * a Linear weight [out, in] is ggml ne = [in, out] with the same bytes). Writes
 * `<out>/<id>.gguf` with the project's vocabulary (writeLlamaMetadata),
 * `<out>/reference-<id>.json` (PyTorch logits and greedy answers) and `<out>/manifest.json`.
 * A model of the plan with no `<work>/<id>.json` (not retrained) keeps its GGUF, reference and
 * manifest entry from `<out>` untouched.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GgmlType, GgufWriter } from "./gguf-writer.ts";
import { writeLlamaMetadata } from "./llama-metadata.ts";

/** What train.py writes per model (the parts read here). */
interface TrainedModel {
  id: string;
  task: string;
  rung: "s" | "m" | "l";
  dims: { embedding: number; layers: number; heads: number; feedForward: number; vocab: number };
  training: Record<string, unknown>;
  parameters: number;
  heldout: Record<string, unknown>;
  reference: { inputs: number[][]; logits: number[][][] };
  greedy: Array<{ prompt: string; answer: string; tokens: number[]; meanConfidence: number }>;
  tensors: Array<{ name: string; shape: number[] }>;
}

interface Plan {
  tasks: Array<{ name: string; description: string; heldout: string; problems: number; seed: number }>;
  models: Array<{ id: string }>;
  format: Record<string, string>;
}

/** Trained context length written to the GGUF; the tasks use under 64 tokens. */
const CONTEXT_LENGTH = 512;

export function trainedGguf(m: TrainedModel, weights: Buffer): Uint8Array {
  const g = new GgufWriter(32);
  writeLlamaMetadata(g, {
    name: `rung-${m.id}`,
    type: "f32",
    contextLength: CONTEXT_LENGTH,
    embeddingLength: m.dims.embedding,
    layers: m.dims.layers,
    feedForwardLength: m.dims.feedForward,
    heads: m.dims.heads,
    kvHeads: m.dims.heads,
  });
  let offset = 0;
  for (const t of m.tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    // Copy (rather than view) so the Float32Array is aligned whatever the Buffer's offset.
    Buffer.from(data.buffer).set(weights.subarray(offset, offset + count * 4));
    offset += count * 4;
    // ggml order is the reverse of PyTorch's: ne[0] is the contiguous (last) axis.
    g.addTensor(t.name, [...t.shape].reverse() as [number] | [number, number], GgmlType.F32, data);
  }
  if (offset !== weights.length) throw new Error(`${m.id}: ${weights.length - offset} bytes of weights left over`);
  return g.toBytes();
}

/** The committed manifest's models by id, or none where there is no manifest yet. */
async function previousModels(path: string): Promise<Map<string, { id: string }>> {
  if (!existsSync(path)) return new Map();
  const manifest = JSON.parse(await readFile(path, "utf8")) as { models: Array<{ id: string }> };
  return new Map(manifest.models.map((m) => [m.id, m]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { work: { type: "string", default: "tools/train/out" }, out: { type: "string", default: "tests/fixtures/trained" } },
  });
  const work = resolve(values.work);
  const out = resolve(values.out);
  const plan = JSON.parse(await readFile(join(work, "plan.json"), "utf8")) as Plan;
  const previous = await previousModels(join(out, "manifest.json"));
  const models = [];
  for (const { id } of plan.models) {
    if (!existsSync(join(work, `${id}.json`))) {
      // Not retrained (`train_all.py <ids>` trains only some): keep its committed GGUF and manifest entry as they are.
      const kept = previous.get(id);
      if (!kept) throw new Error(`${id}: no ${join(work, `${id}.json`)} and no entry in the manifest to keep`);
      models.push(kept);
      console.log(`${id}.gguf: kept (not retrained)`);
      continue;
    }
    const m = JSON.parse(await readFile(join(work, `${id}.json`), "utf8")) as TrainedModel;
    const bytes = trainedGguf(m, await readFile(join(work, `${id}.bin`)));
    const file = `${id}.gguf`;
    await writeFile(join(out, file), bytes);
    const reference = `reference-${id}.json`;
    await writeFile(
      join(out, reference),
      `${JSON.stringify({ id, inputs: m.reference.inputs, logits: m.reference.logits, greedy: m.greedy })}\n`,
    );
    models.push({
      id,
      task: m.task,
      rung: m.rung,
      file,
      parameters: m.parameters,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      type: "f32",
      dims: m.dims,
      training: m.training,
      heldout: m.heldout,
      reference,
    });
    console.log(`${file}: ${m.parameters} parameters, ${(bytes.length / 1024).toFixed(0)} KiB, held-out accuracy ${m.heldout.accuracy}`);
  }
  const manifest = { generatedBy: "npm run train", format: plan.format, tasks: plan.tasks, models };
  await writeFile(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
