import { MAX_TOKENS_PER_SECOND } from "../protocol/messages.ts";

/** Jobs per model that make up its recent speed: enough to smooth one odd job, few enough to follow a change in load. */
const DEFAULT_WINDOW = 8;

interface Sample {
  tokens: number;
  seconds: number;
}

/**
 * Decoding speed per model measured from real jobs: tokens generated after
 * the first one, over the time from first piece to the end. Prompt processing
 * is left out, as in the load-time measurement, so the two compare.
 */
export class SpeedMeter {
  readonly #samples = new Map<string, Sample[]>();

  /** @param window Jobs per model to average over. Default 8. */
  constructor(private readonly window = DEFAULT_WINDOW) {}

  /** A finished job: `tokens` generated, `seconds` from its first piece to its end. */
  record(modelId: string, tokens: number, seconds: number): void {
    // One token (or none) has no decoding time to measure.
    if (tokens < 2 || !(seconds > 0)) return;
    const samples = this.#samples.get(modelId) ?? [];
    samples.push({ tokens: tokens - 1, seconds });
    if (samples.length > this.window) samples.shift();
    this.#samples.set(modelId, samples);
  }

  /** Tokens/s per model over its recent jobs, rounded to 0.1; models without a job are absent. */
  recent(): Map<string, number> {
    const speeds = new Map<string, number>();
    for (const [modelId, samples] of this.#samples) {
      let tokens = 0;
      let seconds = 0;
      for (const sample of samples) {
        tokens += sample.tokens;
        seconds += sample.seconds;
      }
      // An engine that answers instantly (echo) measures more than hello and heartbeat may carry; the edge would refuse them.
      speeds.set(modelId, Math.min(MAX_TOKENS_PER_SECOND, Math.round((tokens / seconds) * 10) / 10));
    }
    return speeds;
  }
}
