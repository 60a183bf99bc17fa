import type { GenerationOptions, GenerationRequest, GenerationResult, InferenceEngine } from "./inference-engine.ts";

/**
 * An engine that passes every call on to the one it wraps: the base of the
 * wrappers (fault injection, the donor page's meter), so each overrides only
 * what it changes and none forgets a member the interface gains.
 */
export class ForwardingEngine implements InferenceEngine {
  constructor(protected readonly inner: InferenceEngine) {}

  get name() {
    return this.inner.name;
  }
  get models() {
    return this.inner.models;
  }
  get slots() {
    return this.inner.slots;
  }
  get hardware() {
    return this.inner.hardware;
  }

  freeVramBytes(): Promise<number | undefined> {
    return this.inner.freeVramBytes?.() ?? Promise.resolve(undefined);
  }

  generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    return this.inner.generate(request, options);
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
