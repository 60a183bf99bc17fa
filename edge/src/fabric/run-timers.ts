import type { QueuedTimer, TimerQueue } from "./timer-queue.ts";

/** A request's own timers by name, on the pool's queue: at most one of each runs, and all stop together when the request ends. */
export class RunTimers<Name extends string> {
  readonly #timers = new Map<Name, QueuedTimer>();

  constructor(private readonly queue: TimerQueue) {}

  /** Starts the timer, replacing one of the same name; it counts as stopped once it fires. */
  set(name: Name, ms: number, fire: () => void): void {
    this.clear(name);
    this.#timers.set(
      name,
      this.queue.set(ms, () => {
        this.#timers.delete(name);
        fire();
      }),
    );
  }

  has(name: Name): boolean {
    return this.#timers.has(name);
  }

  clear(name: Name): void {
    const timer = this.#timers.get(name);
    if (timer === undefined) return;
    timer.cancel();
    this.#timers.delete(name);
  }

  clearAll(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }
}
