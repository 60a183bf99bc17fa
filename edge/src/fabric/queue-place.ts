import type { JobRunHost, Queued } from "./job-run-host.ts";

/**
 * A request's place in the pool's queue: taken when every node that could
 * serve it is busy, given up when it launches an attempt or ends. The host
 * wakes the request (`slotFreed`) as slots free.
 */
export class QueuePlace {
  #waiting = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: Pick<JobRunHost, "enqueue" | "dequeue" | "timing">,
    private readonly run: Queued,
    /** The wait ran past the queue's limit; says for how long it waited. */
    private readonly onTimeout: (message: string) => void,
  ) {}

  get waiting(): boolean {
    return this.#waiting;
  }

  /** False when the queue is full. */
  join(): boolean {
    if (!this.host.enqueue(this.run)) return false;
    this.#waiting = true;
    const { queueWaitMs } = this.host.timing;
    this.#timer = setTimeout(
      () => this.onTimeout(`Every node that can serve this request stayed busy for ${queueWaitMs / 1000}s.`),
      queueWaitMs,
    );
    return true;
  }

  leave(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    clearTimeout(this.#timer);
    this.host.dequeue(this.run);
  }
}
