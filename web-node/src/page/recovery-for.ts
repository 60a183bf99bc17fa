/**
 * What the tab does after its engine failed with `code`. A lost GPU device is
 * often transient (a driver reset): load the same model once more. Memory and
 * loading failures call for a smaller model; a GPU that cannot run the engine
 * at all sends the tab to the CPU engine. Anything else failed one job only.
 */
export type Recovery = "reload" | "smaller-model" | "cpu-engine" | "none";

const RECOVERIES: Readonly<Record<string, Recovery>> = {
  gpu_device_lost: "reload",
  out_of_memory: "smaller-model",
  model_load_failed: "smaller-model",
  webgpu_unsupported: "cpu-engine",
};

export function recoveryFor(code: string): Recovery {
  return RECOVERIES[code] ?? "none";
}
