import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { GgufInsights, readGgufFileInfo } from "node-llama-cpp";
import { formatBytes } from "../../engines/format-bytes.ts";
import { quantizationName } from "../../engines/quantization-name.ts";
import { shortCount } from "../describe-model.ts";

/** One row of `models list`. */
interface ModelRow {
  file: string;
  size: number;
  /** Undefined when the header cannot be read; `problem` says why. */
  parameters?: number;
  quantization?: string;
  problem?: string;
}

/**
 * `rung-agent models list`: the .gguf files in `dir` with size, parameter
 * count and quantization, read from each file's header (no model is loaded).
 */
export async function listModels(dir: string, write: (text: string) => void): Promise<number> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const files = names.filter((name) => name.toLowerCase().endsWith(".gguf")).sort();
  if (files.length === 0) {
    write(`No models in ${dir}. Download one with: rung-agent models pull hf:<user>/<repo>:<quant>\n`);
    return 0;
  }
  const rows: ModelRow[] = [];
  for (const file of files) rows.push(await readRow(dir, file));
  const nameWidth = Math.max(...rows.map((r) => r.file.length));
  const sizes = rows.map((r) => formatBytes(r.size));
  const sizeWidth = Math.max(...sizes.map((s) => s.length));
  const counts = rows.map((r) => `${shortCount(r.parameters ?? 0)} parameters`);
  const countWidth = Math.max(...counts.map((c) => c.length));
  const lines = rows.map((row, i) => {
    const facts = row.problem ?? `${counts[i]!.padEnd(countWidth)}  ${row.quantization}`;
    return `  ${row.file.padEnd(nameWidth)}  ${sizes[i]!.padStart(sizeWidth)}  ${facts}`;
  });
  const total = formatBytes(rows.reduce((sum, r) => sum + r.size, 0));
  write(`${dir}\n${lines.join("\n")}\n${rows.length === 1 ? "1 model" : `${rows.length} models`}, ${total}\n`);
  return 0;
}

async function readRow(dir: string, file: string): Promise<ModelRow> {
  const path = join(dir, file);
  const { size } = await stat(path);
  try {
    const info = await readGgufFileInfo(path);
    // No llama backend needed: the counts come from the tensor table in the header.
    const insights = await GgufInsights.from(info);
    return { file, size, parameters: insights.totalParameters, quantization: quantizationName(info.metadata.general?.file_type) };
  } catch (error) {
    return { file, size, problem: `not a readable GGUF file (${error instanceof Error ? error.message : String(error)})` };
  }
}
