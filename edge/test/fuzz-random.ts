/**
 * What the fuzz-*.test.ts files share: the run's seed and sizes from the environment, a seeded source of
 * hostile values, and a timeout that names what hung. The seed decides every value sent; the runtime decides
 * how concurrent work interleaves, so a replay sends the same frames and requests, not the same schedule.
 */
import { seededRandom } from "@rung/shared/routing";

/** The seed a run uses when `RUNG_FUZZ_SEED` is unset: fixed, so `npm test` is the same run every time. */
export const DEFAULT_FUZZ_SEED = 15_003;

/**
 * `RUNG_FUZZ_<name>`, a whole number, or `fallback` when unset. Tests in workerd see the environment through
 * Vite, which passes only variables of its `envPrefix` (edge/vitest.config.ts adds `RUNG_FUZZ_`).
 */
export function fuzzSetting(name: "SEED" | "FRAMES" | "REQUESTS", fallback: number): number {
  const env = (import.meta as unknown as { env?: Record<string, string | undefined> }).env ?? {};
  const text = env[`RUNG_FUZZ_${name}`];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`RUNG_FUZZ_${name} must be a whole number, not '${text}'`);
  return value;
}

/** Numbers a careless parser mishandles: signs, fractions, the edges of safe integers and of doubles. */
const AWKWARD_NUMBERS = [
  -1,
  -0,
  0.5,
  1.5,
  -1e-300,
  Number.MIN_VALUE,
  2 ** 31,
  2 ** 32 + 1,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1e21,
  -1e308,
  1.7976931348623157e308,
] as const;

/** Strings with what breaks headers, logs and naive escaping: controls, quotes, a lone surrogate, right-to-left marks. */
const AWKWARD_STRINGS = [
  "",
  " ",
  "\n",
  "a\r\nx-injected: 1",
  "\u0000",
  '"',
  "\\",
  "\ud800",
  "\u202e",
  "🦀",
  "null",
  "undefined",
  "NaN",
  "__proto__",
  "constructor",
  "../../etc/passwd",
  "%00",
  "<script>",
] as const;

export class FuzzRandom {
  readonly #next: () => number;

  constructor(readonly seed: number) {
    this.#next = seededRandom(seed);
  }

  /** A generator of its own, seeded from this one: one per actor keeps each actor's values independent of the others' pace. */
  fork(): FuzzRandom {
    return new FuzzRandom(Math.floor(this.#next() * 2 ** 32));
  }

  float(): number {
    return this.#next();
  }

  /** A whole number from min to max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.#next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }

  /** One of the choices, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let left = this.#next() * choices.reduce((sum, [weight]) => sum + weight, 0);
    for (const [weight, value] of choices) {
      left -= weight;
      if (left < 0) return value;
    }
    return choices.at(-1)![1];
  }

  /** Printable ASCII without spaces, as ids and names must be. */
  printable(min: number, max: number): string {
    let text = "";
    for (let i = this.int(min, max); i > 0; i--) text += String.fromCharCode(this.int(0x21, 0x7e));
    return text;
  }

  /** Any UTF-16 text: controls, surrogates (paired or not), the BMP's far end. */
  text(maxLength: number): string {
    let text = "";
    for (let i = this.int(0, maxLength); i > 0; i--) {
      const range = this.pick([
        [0x20, 0x7e],
        [0x00, 0x1f],
        [0x80, 0x7ff],
        [0xd800, 0xdfff],
        [0xe000, 0xffff],
      ] as const);
      text += String.fromCharCode(this.int(range[0], range[1]));
    }
    return text;
  }

  awkwardNumber(): number {
    return this.pick(AWKWARD_NUMBERS);
  }

  awkwardString(): string {
    return this.chance(0.6) ? this.pick(AWKWARD_STRINGS) : this.text(24);
  }

  bytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = this.int(0, 255);
    return bytes;
  }

  /** Any JSON value, at most `depth` levels deep. */
  json(depth = 3): unknown {
    const kind = depth <= 0 ? this.int(0, 3) : this.int(0, 5);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.awkwardNumber();
      case 3:
        return this.awkwardString();
      case 4:
        return Array.from({ length: this.int(0, 4) }, () => this.json(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: this.int(0, 4) }, () => [this.awkwardString(), this.json(depth - 1)]));
    }
  }

  /** A value of another type than the field wants: what a client or node that got the schema wrong sends. */
  wrongValue(): unknown {
    return this.weighted<() => unknown>([
      [3, () => this.json(2)],
      [2, () => this.awkwardNumber()],
      [2, () => this.awkwardString()],
      [1, () => "x".repeat(this.int(1_000, 100_000))],
      [1, () => deepArray(this.int(50, 2_000))],
    ])();
  }
}

/** `[[[…0…]]]`, `depth` arrays deep, as a value. */
export function deepArray(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** `[[[…]]]` as text, deeper than a recursive parser's stack may go. */
export function deepArrayText(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** The promise, or a rejection naming what did not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}

/** Lets the sockets and the Durable Object take their turns. */
export function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
