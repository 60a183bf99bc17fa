import { stat, unlink } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { formatBytes } from "../../engines/format-bytes.ts";
import { UsageError } from "../usage-error.ts";

/**
 * `rung-agent models rm <name>`: delete one model file from `dir`. `name` is a
 * file name in it, `.gguf` optional; anything that resolves outside `dir`
 * (`../x`, an absolute path elsewhere) is refused, so a typo cannot delete
 * an unrelated file.
 */
export async function removeModel(dir: string, name: string, write: (text: string) => void): Promise<number> {
  const root = resolve(dir);
  const candidates = name.toLowerCase().endsWith(".gguf") ? [name] : [name, `${name}.gguf`];
  for (const candidate of candidates) {
    const path = resolve(root, candidate);
    const inside = relative(root, path);
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      throw new UsageError(`refusing to delete ${path}: it is not inside the models directory ${root}`);
    }
    const file = await stat(path).catch(() => undefined);
    if (!file) continue;
    if (!file.isFile()) throw new UsageError(`refusing to delete ${path}: not a file`);
    await unlink(path);
    write(`Removed ${path} (${formatBytes(file.size)})\n`);
    return 0;
  }
  write(`No model "${name}" in ${root}; see rung-agent models list\n`);
  return 1;
}
