import { EchoEngine, EngineError, type GenerationOptions, type GenerationRequest, type GenerationResult } from "@rung/shared/node";
import { MODEL } from "./donor-link-fixtures.ts";

/** The message that makes HoldingEngine hold its job. */
export const HOLD = "hold";

/**
 * Echoes like EchoEngine, except a job whose message is `hold`: it sends one
 * piece, then holds the job until it is aborted, like a model evaluating a
 * long prompt; only an abort (a drop, a cancel, a drain) ends it.
 */
export class HoldingEngine extends EchoEngine {
  aborted = 0;

  constructor() {
    super({ models: [MODEL] });
  }

  override generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    if (request.input.kind !== "chat" || request.input.messages.at(-1)?.content !== HOLD) return super.generate(request, options);
    options.onPiece({ text: "held ", confidence: 0.5 });
    return new Promise((_resolve, reject) => {
      const onAbort = () => {
        this.aborted++;
        reject(new EngineError("cancelled", "aborted", false));
      };
      options.signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
