/** Failures as a volunteer reads them: what happened, without a stack trace. */
const WORDS: Readonly<Record<string, string>> = {
  gpu_device_lost: "The graphics card stopped responding (the browser lost its GPU device).",
  out_of_memory: "This device ran out of memory for the model.",
  model_load_failed: "The model could not be downloaded or loaded.",
  webgpu_unsupported: "This browser's WebGPU cannot run the model.",
  context_full: "A request was longer than this tab's model can read.",
  engine_failure: "The model failed on a request.",
};

export function describeError(error: { code: string; message: string }): string {
  const words = WORDS[error.code] ?? "Something went wrong in this tab.";
  // The engine's own message goes in brackets: donors who report a problem can quote it.
  return `${words} (${error.message})`;
}
