/**
 * `1536` -> `1.5 KB`: decimal units, as disk and GPU vendors print them (and
 * as `rung-agent doctor` does), so the numbers an owner compares agree.
 */
export function formatBytes(bytes: number): string {
  for (const [size, unit] of [
    [1e12, "TB"],
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "KB"],
  ] as const) {
    if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit}`;
  }
  return `${Math.round(bytes)} B`;
}
