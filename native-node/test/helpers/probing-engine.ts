import { EchoEngine, ForwardingEngine } from "@rung/shared/node";
import type { WarmUp } from "../../src/cli/warm-up-once-joined.ts";
import { ECHO_MODEL } from "./echo-models.ts";

/**
 * An echo engine that loads unmeasured (0 tok/s) and learns its speed when the
 * test ends its probe, as LlamaCppEngine.warmUp does with a real model:
 * the test decides whether the probe ends before or after the node joins.
 */
export class ProbingEngine extends ForwardingEngine implements WarmUp {
  /** Whether warmUp was called. */
  warming = false;
  #speed = 0;
  #end!: (outcome: { speed: number } | { error: Error }) => void;
  readonly #probe = new Promise<{ speed: number } | { error: Error }>((resolve) => (this.#end = resolve));

  constructor() {
    super(new EchoEngine({ models: [{ ...ECHO_MODEL, tokensPerSecond: 0 }], slots: 2 }));
  }

  override get models() {
    return this.inner.models.map((m) => ({ ...m, tokensPerSecond: this.#speed }));
  }

  async warmUp(): Promise<ReadonlyMap<string, number>> {
    this.warming = true;
    const outcome = await this.#probe;
    if ("error" in outcome) throw outcome.error;
    this.#speed = outcome.speed;
    return new Map([[ECHO_MODEL.id, outcome.speed]]);
  }

  /** The probe measured `speed`. */
  finishProbe(speed: number): void {
    this.#end({ speed });
  }

  failProbe(error: Error): void {
    this.#end({ error });
  }
}
