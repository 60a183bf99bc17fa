import {
  EngineError,
  ForwardingEngine,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
} from "@rung/shared/node";
import { WireErrorCode } from "@rung/shared/protocol";

/** Faults to inject, for testing an edge's timeouts, hedging and retries against a real agent. */
export interface Faults {
  /** Each job waits this long before it starts generating. Default 0. */
  firstTokenDelayMs?: number;
  /** The first this many jobs fail with a retryable `fault_injected` error. Default 0. */
  failJobs?: number;
}

export const FAULT_INJECTED = "fault_injected";

/**
 * Wraps an engine and misbehaves on purpose (a testing aid, off by default):
 * a slow first token or failing jobs, so the edge's hedging, retries and
 * breakers can be exercised with real agents. A delayed job still ends at once on cancel.
 */
export class FaultInjectingEngine extends ForwardingEngine {
  #failuresLeft: number;

  constructor(
    inner: InferenceEngine,
    private readonly faults: Faults,
  ) {
    super(inner);
    this.#failuresLeft = faults.failJobs ?? 0;
  }

  override async generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    if (this.#failuresLeft > 0) {
      this.#failuresLeft--;
      throw new EngineError(FAULT_INJECTED, "this job failed on purpose (--fault-fail-jobs)", true);
    }
    if (this.faults.firstTokenDelayMs) await abortableDelay(this.faults.firstTokenDelayMs, options.signal);
    if (options.signal.aborted) throw new EngineError(WireErrorCode.cancelled, "generation was aborted", false);
    return super.generate(request, options);
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
