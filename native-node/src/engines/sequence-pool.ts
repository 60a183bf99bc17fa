import { EngineError } from "@rung/shared/node";
import { WireErrorCode } from "@rung/shared/protocol";
import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";

interface Waiter {
  resolve(sequence: LlamaContextSequence): void;
  signal: AbortSignal;
  onAbort(): void;
}

/**
 * Hands out a context's sequences, one per job, first come first served.
 * The edge counts each model's slots, but a cancelled job can hold its
 * sequence a moment longer than the edge thinks (prompt evaluation does not
 * stop mid-way), so a job that finds none free waits here instead of failing.
 */
export class SequencePool {
  readonly #context: LlamaContext;
  readonly #waiters: Waiter[] = [];

  constructor(context: LlamaContext) {
    this.#context = context;
  }

  acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    if (signal.aborted) return Promise.reject(aborted());
    if (this.#context.sequencesLeft > 0 && this.#waiters.length === 0) {
      return Promise.resolve(this.#context.getSequence());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(aborted());
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Frees the sequence's cache cells and gives a sequence to the next waiting job. */
  async release(sequence: LlamaContextSequence): Promise<void> {
    await sequence.dispose();
    const next = this.#waiters.shift();
    if (!next) return;
    next.signal.removeEventListener("abort", next.onAbort);
    next.resolve(this.#context.getSequence());
  }
}

function aborted(): EngineError {
  return new EngineError(WireErrorCode.cancelled, "generation was aborted while waiting for a free sequence", false);
}
