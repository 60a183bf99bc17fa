import { EchoEngine } from "@rung/shared/node";
import type { ModelInfo } from "@rung/shared/protocol";
import type { ModelSource } from "./load-model.ts";

/** `--model echo:<id>`: the EchoEngine serves `<id>`, a benchmark aid that loads no weights. */
export function isEchoModel(source: string): boolean {
  return /^echo:/i.test(source);
}

/** What an echo model announces: nothing was loaded and nothing was timed, and it says so. */
function echoModelInfo(id: string, slots: number): ModelInfo {
  return { id, parameters: 1, quantization: "none", contextLength: 32_768, tokensPerSecond: 0, slots };
}

/**
 * Serves each model (all `echo:`) with one EchoEngine that answers max_tokens
 * tokens from a short prompt (`fill`), instantly, `slots` jobs per model.
 */
export function createEchoEngine(models: readonly ModelSource[], slots: number): EchoEngine {
  return new EchoEngine({
    models: models.map((m) => echoModelInfo(m.id, slots)),
    slots: slots * models.length,
    fill: true,
  });
}
