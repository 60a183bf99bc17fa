import { homedir } from "node:os";
import { join } from "node:path";

/**
 * node-llama-cpp's own default models directory (`~/.node-llama-cpp/models`),
 * where `--model hf:...` downloads land too, so `models list` shows them and
 * its CLI shares the files. node-llama-cpp does not export the constant.
 */
export function defaultModelsDir(): string {
  return join(homedir(), ".node-llama-cpp", "models");
}
