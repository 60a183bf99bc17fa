import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { resolveModelFile } from "node-llama-cpp";
import { ModelLoadError } from "./model-load-error.ts";

/** `hf:`, `huggingface:` and http(s) URLs are fetched; anything else is a local file. */
export function isRemoteModel(source: string): boolean {
  return /^(hf|huggingface|https?):/i.test(source);
}

/**
 * A local file path for a `--model` value. Remote models download (with a
 * progress bar on the terminal) into node-llama-cpp's default models directory,
 * so they are shared with its own CLI and fetched only once.
 */
export async function resolveModelPath(id: string, source: string): Promise<string> {
  if (isRemoteModel(source)) {
    try {
      return await resolveModelFile(source, { cli: true });
    } catch (error) {
      throw ModelLoadError.because(id, `could not fetch ${source}`, error);
    }
  }
  const path = resolve(source);
  try {
    await access(path);
  } catch (error) {
    throw new ModelLoadError(id, `model file ${path} does not exist or cannot be read`, { cause: error });
  }
  return path;
}
