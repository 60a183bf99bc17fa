import type { InferenceEngine } from "@rung/shared/node";

/**
 * Decoding speed in tokens/s, as the agent measures it at load: a short greedy
 * completion timed from its first piece, so prompt processing does not count.
 * 0 (unknown to the router) when the model ends its answer at once.
 */
export async function measureSpeed(engine: InferenceEngine, tokens = 16): Promise<number> {
  const model = engine.models[0];
  if (!model) return 0;
  let pieces = 0;
  let firstAt = 0;
  const result = await engine.generate(
    {
      model: model.id,
      input: { kind: "completion", prompt: "Once upon a time" },
      sampling: { maxTokens: tokens, temperature: 0, topP: 1, stop: [] },
    },
    {
      signal: new AbortController().signal,
      onPiece: () => {
        pieces += 1;
        if (pieces === 1) firstAt = performance.now();
      },
    },
  );
  const generated = result.usage.completionTokens;
  if (pieces < 2 || generated < 2) return 0;
  return Math.round(((generated - 1) / ((performance.now() - firstAt) / 1000)) * 10) / 10;
}
