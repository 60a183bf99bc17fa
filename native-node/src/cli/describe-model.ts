import type { ModelInfo } from "@rung/shared/protocol";

/** `rung-tiny: 164.9K parameters, F32, context 512 tokens, 1047 tok/s`. */
export function describeModel(model: ModelInfo): string {
  const speed = model.tokensPerSecond > 0 ? `${model.tokensPerSecond} tok/s` : "speed not measured";
  return `${model.id}: ${shortCount(model.parameters)} parameters, ${model.quantization}, context ${model.contextLength} tokens, ${speed}`;
}

/** `164928` -> `164.9K`. */
export function shortCount(n: number): string {
  for (const [size, suffix] of [
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ] as const) {
    if (n >= size) return `${(n / size).toFixed(1)}${suffix}`;
  }
  return String(n);
}
