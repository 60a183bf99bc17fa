import {
  EngineError,
  ForwardingEngine,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
} from "@rung/shared/node";

export interface ServingFigures {
  jobsServed: number;
  jobsFailed: number;
  tokensGenerated: number;
  /** Decoding speed of the last finished job, tokens/s after its first token. */
  tokensPerSecond: number;
  current: { model: string; kind: "chat" | "completion"; tokens: number; startedAt: number } | undefined;
}

export interface MeterEvents {
  onFigures(figures: ServingFigures): void;
  /** A job failed in the engine (not cancelled): the page decides whether the model must change. */
  onEngineError(error: EngineError): void;
}

/**
 * The engine as the node session sees it, counting what the donor's page shows:
 * jobs served, tokens, speed, the job in hand. It changes nothing it passes on.
 */
export class MeteredEngine extends ForwardingEngine {
  readonly figures: ServingFigures = { jobsServed: 0, jobsFailed: 0, tokensGenerated: 0, tokensPerSecond: 0, current: undefined };

  constructor(
    inner: InferenceEngine,
    private readonly events: MeterEvents,
  ) {
    super(inner);
  }

  override async generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    const current = { model: request.model, kind: request.input.kind, tokens: 0, startedAt: performance.now() };
    let firstPieceAt = 0;
    this.#update({ current });
    try {
      const result = await super.generate(request, {
        signal: options.signal,
        onPiece: (piece) => {
          if (current.tokens === 0) firstPieceAt = performance.now();
          current.tokens += 1;
          this.#update({});
          options.onPiece(piece);
        },
      });
      const tokens = result.usage.completionTokens;
      const seconds = (performance.now() - firstPieceAt) / 1000;
      this.#update({
        jobsServed: this.figures.jobsServed + 1,
        tokensGenerated: this.figures.tokensGenerated + tokens,
        ...(tokens > 1 && seconds > 0 && { tokensPerSecond: (tokens - 1) / seconds }),
        current: undefined,
      });
      return result;
    } catch (error) {
      const cancelled = error instanceof EngineError && error.code === "cancelled";
      this.#update({ current: undefined, ...(!cancelled && { jobsFailed: this.figures.jobsFailed + 1 }) });
      if (!cancelled && error instanceof EngineError) this.events.onEngineError(error);
      throw error;
    }
  }

  #update(change: Partial<ServingFigures>): void {
    Object.assign(this.figures, change);
    this.events.onFigures({ ...this.figures });
  }
}
