import { basename } from "node:path";
import { isEchoModel } from "../engines/create-echo-engine.ts";
import type { ModelSource } from "../engines/load-model.ts";
import { isRemoteModel } from "../engines/resolve-model-path.ts";

/** `id=path`: the id is a bare name, so `=` inside a path or URL does not split it. */
const ID_PREFIX = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,127})=(.+)$/;

/**
 * One `--model` value: `path`, `hf:user/repo:quant`, or either as `id=...` to
 * choose the id clients use; or `echo:<id>` (a benchmark aid, see createEchoEngine).
 */
export function parseModelFlag(value: string): ModelSource {
  if (isEchoModel(value)) return { id: value.slice("echo:".length), path: value };
  const named = ID_PREFIX.exec(value);
  if (named && !isRemoteModel(value)) return { id: named[1]!, path: named[2]! };
  return { id: defaultModelId(value), path: value };
}

/**
 * The id a model is served under when none is given: the file name without
 * `.gguf`, or for `hf:user/repo:quant` URIs the repository name.
 */
export function defaultModelId(source: string): string {
  const hf = /^(?:hf|huggingface):([^/]+)\/([^/:#]+)/i.exec(source);
  if (hf) return hf[2]!;
  const path = isRemoteModel(source) ? new URL(source).pathname : source;
  return basename(path).replace(/\.gguf$/i, "");
}
