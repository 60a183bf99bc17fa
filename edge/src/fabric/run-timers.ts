/** A request's own timers by name: at most one of each runs, and all stop together when the request ends. */
export class RunTimers<Name extends string> {
  readonly #timers = new Map<Name, ReturnType<typeof setTimeout>>();

  /** Starts the timer, replacing one of the same name; it counts as stopped once it fires. */
  set(name: Name, ms: number, fire: () => void): void {
    this.clear(name);
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        fire();
      }, ms),
    );
  }

  has(name: Name): boolean {
    return this.#timers.has(name);
  }

  clear(name: Name): void {
    const timer = this.#timers.get(name);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(name);
  }

  clearAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
