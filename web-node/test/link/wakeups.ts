/** How long a test waits for a frame, a connection or a link state before it fails. */
export const WAIT_MS = 5_000;

/** Callbacks re-checked whenever a frame, a connection or a link state arrives. */
export class Wakeups {
  readonly #waiters = new Set<() => void>();

  wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Resolves once `ready()` holds; fails after `timeoutMs` naming `what`. */
  until(ready: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }
}
