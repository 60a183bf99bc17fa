import type {
  EngineName,
  Hardware,
  JobInput,
  ModelInfo,
  ResponseFormat,
  Sampling,
  Tool,
  ToolCall,
  ToolChoice,
  Usage,
} from "../protocol/messages.ts";

export interface GeneratedPiece {
  text: string;
  /** Probability of the chosen token(s), 0..1, or null where the engine cannot tell. */
  confidence: number | null;
  /**
   * Only when the request asked for `tokenSignals`: the chosen token's probability minus
   * the most probable other token's, 0..1 (0 when another was at least as likely; see
   * tokenMargin). A piece of several tokens reports the smallest. Null or absent where unknown.
   */
  margin?: number | null;
  /**
   * Only when the request asked for `tokenSignals`: entropy of the distribution the token
   * was chosen from, in nats (see tokenEntropy). A piece of several tokens reports the
   * largest. Null or absent where the engine cannot tell (it sees only the top few tokens).
   */
  entropy?: number | null;
}

export interface GenerationRequest {
  model: string;
  input: JobInput;
  sampling: Sampling;
  /** The answer must be JSON (of this schema); only sent to models that announce `jsonSchema`. */
  responseFormat?: ResponseFormat;
  /** Functions the model may call; only sent to models that announce `tools`. */
  tools?: Tool[];
  /** Absent with tools means `auto`. */
  toolChoice?: ToolChoice;
  /**
   * Report each piece's `margin` and `entropy` too (the job's `tokenSignals`, passed on only
   * for an edge that reads them). Absent: confidences only; engines then skip the extra work.
   */
  tokenSignals?: boolean;
}

export interface GenerationOptions {
  signal: AbortSignal;
  onPiece(piece: GeneratedPiece): void;
}

export interface GenerationResult {
  finishReason: "stop" | "length" | "tool_calls";
  usage: Usage;
  /** The functions the model called; `finishReason` is then `tool_calls`. */
  toolCalls?: ToolCall[];
}

/**
 * What every node runtime implements: llama-cpp on native agents, wllama and
 * WebLLM in browser tabs, echo in tests. The node session speaks the wire
 * protocol; engines only turn a request into pieces of text.
 */
export interface InferenceEngine {
  readonly name: (typeof EngineName)[keyof typeof EngineName];
  readonly models: readonly ModelInfo[];
  /** Jobs the engine can run at once. */
  readonly slots: number;
  /** What the engine runs on, reported in `hello`; engines that cannot tell leave it out. */
  readonly hardware?: Hardware;
  /** Free GPU memory now, for heartbeats; absent (or undefined) on CPU. */
  freeVramBytes?(): Promise<number | undefined>;
  /**
   * Resolves when generation ends; pieces of a tool call carry empty text (the
   * call arrives whole in the result) but still their confidence. Rejects with EngineError (or anything, treated as retryable).
   */
  generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult>;
  dispose(): Promise<void>;
}
