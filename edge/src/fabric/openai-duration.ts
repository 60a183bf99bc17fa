/**
 * A span of milliseconds the way OpenAI writes it in `x-ratelimit-reset-*`
 * headers and "Please try again in …" messages (Go's duration format):
 * `0s`, `120ms`, `1.5s`, `6m0s`, `1h0m0s`. Rounded to whole milliseconds.
 */
export function openAiDuration(ms: number): string {
  const whole = Math.ceil(ms);
  if (!(whole > 0)) return "0s";
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = `${(whole % 60_000) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
