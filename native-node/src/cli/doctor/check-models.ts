import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Llama, readGgufFileInfo } from "node-llama-cpp";
import { isEchoModel } from "../../engines/create-echo-engine.ts";
import { freeMemoryBytes } from "../../engines/detect-hardware.ts";
import { estimateFootprint } from "../../engines/estimate-footprint.ts";
import { formatBytes } from "../../engines/format-bytes.ts";
import type { ModelSource } from "../../engines/load-model.ts";
import { memoryBudget } from "../../engines/memory-budget.ts";
import { type ModelToFit, planMemory } from "../../engines/plan-memory.ts";
import { quantizationName } from "../../engines/quantization-name.ts";
import { isRemoteModel } from "../../engines/resolve-model-path.ts";
import { shortCount } from "../describe-model.ts";
import { type DoctorCheck, fail, pass } from "./doctor-check.ts";

export interface ModelCheckOptions {
  /** Slots wanted per model, as `start --slots`. */
  slots: number;
  /** Tokens per slot; undefined: the trained context, at most 4096 (as `start` does). */
  contextSize: number | undefined;
  /** `--memory-limit` in bytes, as `start` plans with it; undefined: the free memory. */
  memoryLimitBytes: number | undefined;
}

/** A local model whose header could be read. */
interface ReadableModel extends ModelToFit {
  facts: string;
}

/**
 * One check per model: the file is there, is a GGUF, and fits. The fit is
 * the engine's own plan (estimateFootprint + planMemory over --memory-limit or
 * the free VRAM, or RAM on the CPU), so doctor says what `start` will do: serve every slot, serve
 * fewer, or refuse the model. Only headers are read; nothing is loaded.
 */
export async function checkModels(models: ModelSource[], options: ModelCheckOptions, llama: Llama | undefined): Promise<DoctorCheck[]> {
  if (models.length === 0) {
    return [fail("models", "no model configured", 'give one with --model ./model.gguf, RUNG_MODELS or "models" in the config file')];
  }
  const checks = new Map<string, DoctorCheck>();
  const readable: ReadableModel[] = [];
  for (const model of models) {
    const name = `model ${model.id}`;
    if (isEchoModel(model.path)) {
      checks.set(model.id, pass(name, "served by the echo engine, a benchmark aid: nothing to load"));
      continue;
    }
    if (isRemoteModel(model.path)) {
      checks.set(model.id, pass(name, `${model.path} is fetched on first start (not checked)`));
      continue;
    }
    const read = await readModel(model, llama, options.contextSize);
    if ("problem" in read) checks.set(model.id, read.problem);
    else readable.push(read);
  }
  for (const [id, check] of await fitChecks(readable, options, llama)) checks.set(id, check);
  return models.map((m) => checks.get(m.id)!);
}

async function readModel(
  model: ModelSource,
  llama: Llama | undefined,
  contextSize: number | undefined,
): Promise<ReadableModel | { problem: DoctorCheck }> {
  const name = `model ${model.id}`;
  const path = resolve(model.path);
  const file = await stat(path).catch(() => undefined);
  if (!file?.isFile()) {
    return {
      problem: fail(
        name,
        `${path} does not exist`,
        "fix the path, or download a model with: rung-agent models pull hf:<user>/<repo>:<quant>",
      ),
    };
  }
  try {
    const info = await readGgufFileInfo(path, { logWarnings: false });
    const parameters = info.fullTensorInfo?.reduce((sum, t) => sum + t.dimensions.reduce((n: number, d) => n * Number(d), 1), 0) ?? 0;
    const facts = `${path}: ${formatBytes(file.size)}, ${shortCount(parameters)} parameters, ${quantizationName(info.metadata.general?.file_type)}`;
    // Without a backend (the GPU check failed) the footprint cannot be estimated; say what the file is anyway.
    const footprint = llama
      ? await estimateFootprint(llama, path, contextSize)
      : { weightsBytes: 0, contextSize: 0, contextBytes: async () => 0 };
    return { id: model.id, facts, ...footprint };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      problem: fail(
        name,
        `${path} is not a readable GGUF file (${reason})`,
        "download the model again; a partial download looks like this",
      ),
    };
  }
}

async function fitChecks(
  models: ReadableModel[],
  { slots, memoryLimitBytes }: ModelCheckOptions,
  llama: Llama | undefined,
): Promise<Map<string, DoctorCheck>> {
  const checks = new Map<string, DoctorCheck>();
  if (!llama) {
    for (const m of models) checks.set(m.id, pass(`model ${m.id}`, `${m.facts} (memory not estimated: no backend)`));
    return checks;
  }
  const kind = llama.gpu === false ? "RAM" : "VRAM";
  // The same budget start plans with, a limit over what is free capped the same way.
  const budget = memoryBudget(memoryLimitBytes, await freeMemoryBytes(llama), kind);
  const capped = budget.warning ? ` (${budget.warning})` : "";
  const plan = await planMemory(models, { budgetBytes: budget.bytes, budgetName: budget.name, slots });
  for (const [index, m] of models.entries()) {
    const name = `model ${m.id}`;
    if (!plan.ok) {
      // The plan stops at the first model that cannot fit; the ones before it fit, the ones after are unknown.
      const failedAt = models.findIndex((x) => x.id === plan.modelId);
      if (index < failedAt) checks.set(m.id, pass(name, `${m.facts}; fits on its own`));
      else if (index === failedAt)
        checks.set(
          m.id,
          fail(
            name,
            `${m.facts}; ${plan.message.replace(/ Try .*$/, "")}${capped}`,
            "use a smaller quantization, fewer models or --slots, or a smaller --context-size",
          ),
        );
      else checks.set(m.id, fail(name, `${m.facts}; not planned: a model before it does not fit`, "fix the model before it first"));
      continue;
    }
    const planned = plan.models[index]!;
    // Fewer slots than asked still serves (start warns and runs with what fits), so it passes.
    const served =
      planned.slots < slots
        ? `only ${planned.slots} of ${slots} slots of ${m.contextSize} tokens fit (start serves ${planned.slots})`
        : `${slots} slot${slots === 1 ? "" : "s"} of ${m.contextSize} tokens`;
    checks.set(m.id, pass(name, `${m.facts}; ${served}, ~${formatBytes(planned.bytes)} of ${budget.name}${capped}`));
  }
  return checks;
}
