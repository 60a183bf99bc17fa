import { GgufFileType } from "node-llama-cpp";

/**
 * The name operators know a GGUF by (`F16`, `Q8_0`, `Q4_K_M`), from llama.cpp's
 * `general.file_type` enum. Files that omit the key (older converters) are `unknown`.
 */
export function quantizationName(fileType: number | undefined): string {
  if (fileType === undefined) return "unknown";
  const enumName: string | undefined = GgufFileType[fileType];
  if (!enumName) return `type-${fileType}`;
  // `MOSTLY_Q4_K_M` -> `Q4_K_M`, `ALL_F32` -> `F32`: the prefix only says whether every tensor uses it.
  return enumName.replace(/^(MOSTLY|ALL)_/, "");
}
