import { WebEngineErrorCode as Code } from "../engines/web-engine-error-code.ts";

/**
 * What the tab does after its engine failed with a code. A lost GPU device is
 * often transient (a driver reset): load the same model once more. Memory,
 * loading and missing-feature failures call for a smaller model, as does a file
 * that is not the one the pool names (the next model is another file); a GPU that
 * cannot run the engine at all sends the tab to the CPU engine. Anything else
 * failed one job only.
 */
export type Recovery = "reload" | "smaller-model" | "cpu-engine" | "none";

const RECOVERIES: Readonly<Record<string, Recovery>> = {
  [Code.deviceLost]: "reload",
  [Code.outOfMemory]: "smaller-model",
  [Code.loadFailed]: "smaller-model",
  [Code.hashMismatch]: "smaller-model",
  [Code.featureMissing]: "smaller-model",
  [Code.unsupported]: "cpu-engine",
};

export function recoveryFor(code: string): Recovery {
  return RECOVERIES[code] ?? "none";
}
