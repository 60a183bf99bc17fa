import {
  clampEntropy,
  EngineError,
  type GeneratedPiece,
  type GenerationOptions,
  type GenerationResult,
  higherKnown,
  lowerKnown,
  tokenMargin,
} from "@rung/shared/node";
import { FinishReason, type Sampling, WireErrorCode } from "@rung/shared/protocol";
import { isLlamaText, type LlamaContextSequence, type LlamaGrammar, LlamaGrammarEvaluationState, type Token } from "node-llama-cpp";
import type { Prompt } from "./build-prompt.ts";
import { PieceDecoder } from "./piece-decoder.ts";
import { StopTextFilter } from "./stop-text-filter.ts";

export interface SequenceGenerationOptions extends Pick<GenerationOptions, "signal" | "onPiece"> {
  /**
   * Report each piece's margin and entropy too, from the whole next-token distribution.
   * Default false: only the chosen token's probability is asked for, which spares
   * node-llama-cpp handing over (and this loop reading) a map of the vocabulary per token.
   */
  tokenSignals?: boolean;
}

/** One sampled token as node-llama-cpp yields it; `probabilities` only when asked for. */
interface SampledToken {
  token: Token;
  confidence: number;
  probabilities?: ReadonlyMap<Token, number>;
}

/**
 * Runs one generation on a sequence the caller owns: evaluates the prompt,
 * samples token by token with per-token confidence, and streams text pieces
 * until an end token, a stop trigger or string, `maxTokens`, or a full context.
 * A grammar, when given, restricts what the sampler may choose; confidence is
 * still the probability the model gave the chosen token among those allowed.
 * With `tokenSignals`, margin and entropy are read from the same distribution
 * as confidence: the one the sampler chose from (after temperature, top-p and
 * a grammar; under greedy sampling, the model's own).
 */
export async function generateOnSequence(
  sequence: LlamaContextSequence,
  prompt: Prompt,
  sampling: Sampling,
  { signal, onPiece, tokenSignals = false }: SequenceGenerationOptions,
  grammar?: LlamaGrammar,
): Promise<GenerationResult> {
  const model = sequence.model;
  const decoder = new PieceDecoder((tokens, lastTokens) => model.detokenize(tokens, false, lastTokens));
  // JSON-schema grammars end in a run of newlines that node-llama-cpp's own chat loop treats as a stop trigger; so does this one.
  const grammarStops = (grammar?.stopGenerationTriggers ?? []).flatMap((trigger) => {
    if (typeof trigger === "string") return [trigger];
    return isLlamaText(trigger) && trigger.values.every((value) => typeof value === "string") ? [trigger.toString()] : [];
  });
  const filter = new StopTextFilter([...sampling.stop, ...prompt.stopTexts, ...grammarStops]);
  const maxTokens = sampling.maxTokens ?? Number.POSITIVE_INFINITY;
  const generated: Token[] = [];
  let finishReason: GenerationResult["finishReason"] = FinishReason.stop;
  let stoppedByText = false;
  // A piece can span several tokens (the bytes of one character): it reports the
  // least confident of them, since the edge looks for weak spots, and the minimum
  // is still the probability of a token the model actually chose. Likewise the
  // smallest margin and the largest entropy.
  let pieceConfidence: number | null = null;
  let pieceMargin: number | null = null;
  let pieceEntropy: number | null = null;
  const takePiece = (text: string): GeneratedPiece => {
    const made: GeneratedPiece = { text, confidence: pieceConfidence };
    if (tokenSignals) Object.assign(made, { margin: pieceMargin, entropy: pieceEntropy });
    pieceConfidence = pieceMargin = pieceEntropy = null;
    return made;
  };

  const iterator: AsyncIterable<SampledToken> = sequence.evaluateWithMetadata(
    prompt.tokens,
    { confidence: true, probabilities: tokenSignals },
    {
      temperature: sampling.temperature,
      topP: sampling.topP,
      seed: sampling.seed,
      // One state per answer: it tracks how far into the grammar this answer is; the sampler advances it.
      ...(grammar && { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) }),
    },
  );
  for await (const { token, confidence, probabilities } of iterator) {
    if (signal.aborted) break;
    generated.push(token);
    // End-of-generation tokens end the loop inside node-llama-cpp and are never yielded.
    if (endsWithAny(generated, prompt.stopTokens)) break;
    pieceConfidence = Math.min(pieceConfidence ?? 1, confidence);
    if (probabilities) {
      const { margin, entropy } = signalsOf(token, probabilities);
      pieceMargin = lowerKnown(pieceMargin, margin);
      pieceEntropy = higherKnown(pieceEntropy, entropy);
    }
    const text = decoder.push(token);
    if (text) {
      const { ready, stopped } = filter.push(takePiece(text));
      for (const piece of ready) onPiece(piece);
      if (stopped) {
        stoppedByText = true;
        break;
      }
    }
    // Stop before the context overflows: node-llama-cpp would otherwise shift
    // (forget) the start of the prompt and keep going on a different question.
    if (generated.length >= maxTokens || prompt.tokens.length + generated.length >= sequence.contextSize) {
      finishReason = FinishReason.length;
      break;
    }
  }
  if (signal.aborted) throw new EngineError(WireErrorCode.cancelled, "generation was aborted", false);

  if (!stoppedByText) {
    const rest = decoder.flush();
    const { ready, stopped } = rest ? filter.push(takePiece(rest)) : { ready: [], stopped: false };
    for (const piece of ready) onPiece(piece);
    if (stopped) finishReason = FinishReason.stop;
    else for (const piece of filter.flush()) onPiece(piece);
  }
  return { finishReason, usage: { promptTokens: prompt.tokens.length, completionTokens: generated.length } };
}

/**
 * Margin and entropy of a chosen token from the distribution it was sampled
 * from, in one pass over it (a map of the whole vocabulary: on a real model
 * 32,000 to 150,000 entries a token). The chosen token's probability is the
 * map's, the very number node-llama-cpp reports as its confidence (it reads it
 * from the same array when both are asked for). The map comes sorted, most
 * likely first, but finding the likeliest other token while summing the
 * entropy costs nothing, so this does not rely on the order.
 */
export function signalsOf(chosen: Token, probabilities: ReadonlyMap<Token, number>): { margin: number | null; entropy: number } {
  let chosenP: number | undefined;
  let runnerUp = 0;
  let sum = 0;
  for (const [token, p] of probabilities) {
    if (p > 0) sum -= p * Math.log(p);
    if (token === chosen) chosenP = p;
    else if (p > runnerUp) runnerUp = p;
  }
  return { margin: chosenP === undefined ? null : tokenMargin(chosenP, runnerUp), entropy: clampEntropy(sum) };
}

/**
 * True when the generated tokens end with one of the stop sequences. Single
 * special tokens are the common case; for longer sequences the tokens before
 * the last may already have been streamed as text.
 */
function endsWithAny(generated: readonly Token[], stops: readonly Token[][]): boolean {
  return stops.some(
    (stop) =>
      stop.length > 0 &&
      stop.length <= generated.length &&
      stop.every((token, i) => generated[generated.length - stop.length + i] === token),
  );
}
