import { EngineError, type GenerationOptions, type GenerationResult } from "@rung/shared/node";
import { FinishReason, type Sampling, WireErrorCode } from "@rung/shared/protocol";
import { isLlamaText, type LlamaContextSequence, type LlamaGrammar, LlamaGrammarEvaluationState, type Token } from "node-llama-cpp";
import type { Prompt } from "./build-prompt.ts";
import { PieceDecoder } from "./piece-decoder.ts";
import { StopTextFilter } from "./stop-text-filter.ts";

/**
 * Runs one generation on a sequence the caller owns: evaluates the prompt,
 * samples token by token with per-token confidence, and streams text pieces
 * until an end token, a stop trigger or string, `maxTokens`, or a full context.
 * A grammar, when given, restricts what the sampler may choose; confidence is
 * still the probability the model gave the chosen token among those allowed.
 */
export async function generateOnSequence(
  sequence: LlamaContextSequence,
  prompt: Prompt,
  sampling: Sampling,
  { signal, onPiece }: Pick<GenerationOptions, "signal" | "onPiece">,
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
  // is still the probability of a token the model actually chose.
  let pieceConfidence: number | null = null;

  const iterator = sequence.evaluateWithMetadata(
    prompt.tokens,
    { confidence: true },
    {
      temperature: sampling.temperature,
      topP: sampling.topP,
      seed: sampling.seed,
      // One state per answer: it tracks how far into the grammar this answer is; the sampler advances it.
      ...(grammar && { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) }),
    },
  );
  for await (const { token, confidence } of iterator) {
    if (signal.aborted) break;
    generated.push(token);
    // End-of-generation tokens end the loop inside node-llama-cpp and are never yielded.
    if (endsWithAny(generated, prompt.stopTokens)) break;
    pieceConfidence = Math.min(pieceConfidence ?? 1, confidence);
    const text = decoder.push(token);
    if (text) {
      const { ready, stopped } = filter.push({ text, confidence: pieceConfidence });
      pieceConfidence = null;
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
    const { ready, stopped } = rest ? filter.push({ text: rest, confidence: pieceConfidence }) : { ready: [], stopped: false };
    for (const piece of ready) onPiece(piece);
    if (stopped) finishReason = FinishReason.stop;
    else for (const piece of filter.flush()) onPiece(piece);
  }
  return { finishReason, usage: { promptTokens: prompt.tokens.length, completionTokens: generated.length } };
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
