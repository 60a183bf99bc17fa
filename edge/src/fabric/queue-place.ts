import type { JobRunHost, Queued } from "./job-run-host.ts";
import type { QueuedTimer } from "./timer-queue.ts";

/**
 * A request's place in the pool's queue: taken when every node that could
 * serve it is busy, given up when it launches an attempt or ends. The host
 * wakes the request (`slotFreed`) as slots free.
 */
export class QueuePlace {
  #waiting = false;
  #timer: QueuedTimer | undefined;

  constructor(
    private readonly host: Pick<JobRunHost, "enqueue" | "dequeue" | "timing" | "timers">,
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
    this.#timer = this.host.timers.set(queueWaitMs, () =>
      this.onTimeout(`Every node that can serve this request stayed busy for ${queueWaitMs / 1000}s.`),
    );
    return true;
  }

  leave(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#timer?.cancel();
    this.host.dequeue(this.run);
  }
}
