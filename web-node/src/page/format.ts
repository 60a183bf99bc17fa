/** Figures as a donor reads them: short, rounded, with units. */

export function formatBytes(bytes: number): string {
  if (!(bytes > 0)) return "0 B";
  const units = ["B", "KB", "MB", "GB", "TB"];
  const exponent = Math.min(units.length - 1, Math.floor(Math.log(bytes) / Math.log(1024)));
  const value = bytes / 1024 ** exponent;
  return `${value >= 100 || exponent === 0 ? Math.round(value) : value.toFixed(1)} ${units[exponent]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Time left at the average rate so far; undefined until there is a rate to go on. */
export function timeLeftMs(loadedBytes: number, totalBytes: number, elapsedMs: number): number | undefined {
  if (!(totalBytes > 0) || !(loadedBytes > 0) || !(elapsedMs > 0)) return undefined;
  if (loadedBytes >= totalBytes) return 0;
  return ((totalBytes - loadedBytes) / loadedBytes) * elapsedMs;
}

export function formatRate(tokensPerSecond: number): string {
  if (!(tokensPerSecond > 0)) return "–";
  return `${tokensPerSecond >= 100 ? Math.round(tokensPerSecond) : tokensPerSecond.toFixed(1)} tok/s`;
}
