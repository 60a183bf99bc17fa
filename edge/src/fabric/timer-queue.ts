/** A timer set on a TimerQueue; cancelling one that fired or was cancelled does nothing. */
export interface QueuedTimer {
  cancel(): void;
}

interface Entry extends QueuedTimer {
  due: number;
  seq: number;
  fire: (() => void) | null;
}

/** Cancelled entries the heap may carry before it is rebuilt without them, at least. */
const MIN_COMPACT = 1024;

/**
 * A pool's timers on one runtime timer. Every request sets three or four (its
 * deadline, its attempt's silence, the hedge, a stream's commit window) and
 * clears nearly all of them within milliseconds; in workerd each setTimeout and
 * clearTimeout is a call into the runtime, and they were 4.7% of the isolate's
 * time under load (`npm run bench:profile`, 32 at once). Here a timer is an
 * entry in a heap ordered by when it is due; only the earliest is armed with
 * the runtime, a cancelled one is skipped when it surfaces, and the heap is
 * rebuilt when cancelled entries outnumber live ones. When the last live one is
 * cancelled the runtime timer goes too: an idle pool may hibernate at once.
 *
 * Timers due at the same moment fire in the order they were set; a timer set
 * while others fire waits for the next turn, as a runtime timer would.
 */
export class TimerQueue {
  readonly #heap: Entry[] = [];
  #seq = 0;
  #cancelled = 0;
  /** The runtime timer and when it wakes; null when none is armed. */
  #armed: { at: number; timer: ReturnType<typeof setTimeout> } | null = null;

  /** Live timers: set, neither fired nor cancelled. */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  set(ms: number, fire: () => void): QueuedTimer {
    const entry: Entry = {
      due: Date.now() + Math.max(0, ms),
      seq: this.#seq++,
      fire,
      cancel: () => {
        if (entry.fire === null) return;
        entry.fire = null;
        this.#cancelled++;
        if (this.#cancelled === this.#heap.length) this.#empty();
        else if (this.#cancelled >= MIN_COMPACT && this.#cancelled * 2 > this.#heap.length) this.#compact();
      },
    };
    this.#push(entry);
    if (this.#armed === null || entry.due < this.#armed.at) this.#arm(entry.due);
    return entry;
  }

  #arm(at: number): void {
    if (this.#armed !== null) clearTimeout(this.#armed.timer);
    this.#armed = { at, timer: setTimeout(() => this.#wake(), Math.max(0, at - Date.now())) };
  }

  #wake(): void {
    this.#armed = null;
    const now = Date.now();
    const setBefore = this.#seq;
    for (let top = this.#heap[0]; top !== undefined; top = this.#heap[0]) {
      if (top.fire !== null && (top.due > now || top.seq >= setBefore)) break;
      this.#pop();
      if (top.fire === null) {
        this.#cancelled--;
        continue;
      }
      const fire = top.fire;
      top.fire = null;
      try {
        fire();
      } catch (error) {
        // One timer's failure must not stop the others: it surfaces from a timer of its own, as it did before.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
    const next = this.#heap[0];
    if (next !== undefined) this.#arm(next.due);
  }

  /** Nothing live is left: no runtime timer either, so an idle object may hibernate instead of waking for timers long cancelled. */
  #empty(): void {
    if (this.#armed !== null) clearTimeout(this.#armed.timer);
    this.#armed = null;
    this.#heap.length = 0;
    this.#cancelled = 0;
  }

  #compact(): void {
    const live = this.#heap.filter((entry) => entry.fire !== null);
    this.#heap.length = 0;
    this.#cancelled = 0;
    for (const entry of live) this.#push(entry);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
