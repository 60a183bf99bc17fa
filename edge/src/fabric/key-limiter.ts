import type { Caller } from "../keys/caller.ts";
import { openAiDuration } from "./openai-duration.ts";

/** Read-only: the admission for a key without limits shares one frozen, empty object. */
type Headers = Readonly<Record<string, string>>;

/** What {@link KeyLimiter.admit} answers: go ahead (and `release` when done), or a 429 to send as it is. */
export type Admission =
  | {
      ok: true;
      /** `x-ratelimit-*` headers for the answer, only for the limits the key has. */
      headers: Headers;
      /**
       * Frees the concurrency place and counts the tokens the request used
       * (prompt and completion) in the key's tokens-per-minute window at
       * `now`. Call it once the answer ends, however it ends; later calls do nothing.
       */
      release(usedTokens: number, now?: number): void;
    }
  | Refusal;

export interface Refusal {
  ok: false;
  status: 429;
  /** OpenAI's codes: `insufficient_quota` for the monthly budget, `rate_limit_exceeded` for the rest. */
  code: "rate_limit_exceeded" | "insufficient_quota";
  /** Which limit, its value and when to try again, in OpenAI's words. */
  message: string;
  /** Whether the same request can pass later (`retry-after` says when): false for a prompt bigger than the key's tpm, or a limit of 0. */
  retryable: boolean;
  /** `x-ratelimit-*` for the limits the key has, and `retry-after` (whole seconds, at least 1) and `retry-after-ms` when retryable. */
  headers: Headers;
}

/**
 * The window is kept in one-second slots. A request or token counts for the
 * second it fell in and the 60 after, so no span of 60 s ever holds more than
 * the limit (it may wait up to a second longer than an exact window would).
 */
const SLOTS = 61;
const SECOND = 1000;
/** How often keys whose windows have emptied are dropped. */
const SWEEP_EVERY_MS = 60_000;

const NO_HEADERS: Headers = Object.freeze({});
const UNLIMITED: Admission = Object.freeze({ ok: true, headers: NO_HEADERS, release: () => {} });

/** The slot of a second; a fake clock may start before 1970. */
function slotOf(second: number): number {
  return ((second % SLOTS) + SLOTS) % SLOTS;
}

/** One key's sliding windows (requests and tokens per minute) and its requests in flight. */
class KeyWindow {
  readonly requests = new Float64Array(SLOTS);
  readonly tokens = new Float64Array(SLOTS);
  requestCount = 0;
  tokenCount = 0;
  inFlight = 0;
  /** The latest second (since the epoch) the slots were brought up to; a clock that steps back stays here. */
  second = 0;

  /** Empties the slots of seconds that left the window since the last call: at most {@link SLOTS} steps. */
  advance(now: number): void {
    const current = Math.floor(now / SECOND);
    if (current <= this.second) return;
    for (let s = Math.max(this.second + 1, current - SLOTS + 1); s <= current; s++) {
      const slot = slotOf(s);
      this.requestCount -= this.requests[slot]!;
      this.tokenCount -= this.tokens[slot]!;
      this.requests[slot] = 0;
      this.tokens[slot] = 0;
    }
    this.second = current;
  }

  count(requests: number, tokens: number): void {
    const slot = slotOf(this.second);
    this.requests[slot]! += requests;
    this.tokens[slot]! += tokens;
    this.requestCount += requests;
    this.tokenCount += tokens;
  }

  /** Milliseconds from `now` until the window's `slots` hold at most `keep`; undefined if they never will (`keep` < 0). */
  waitUntil(slots: Float64Array, total: number, keep: number, now: number): number | undefined {
    if (total <= keep) return 0;
    if (keep < 0) return undefined;
    let left = total;
    for (let s = this.second - SLOTS + 1; s <= this.second; s++) {
      left -= slots[slotOf(s)]!;
      if (left <= keep) return (s + SLOTS) * SECOND - now;
    }
    return undefined;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.requestCount === 0 && this.tokenCount === 0;
  }
}

/**
 * Per-key limits for the pool's object, in memory: requests and tokens per
 * minute over a sliding window, requests in flight, and the monthly token
 * budget (whose usage the caller passes in, from the usage ledger). A key
 * without limits costs a property check and shares one admission.
 */
export class KeyLimiter {
  readonly #windows = new Map<string, KeyWindow>();
  readonly #clock: () => number;
  #sweptAt = 0;

  /** @param clock the time in ms since the epoch; default `Date.now`. */
  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /**
   * Checks, in order, concurrency, requests per minute, tokens per minute
   * (the window's tokens and `promptTokens`) and the monthly budget
   * (`monthUsedTokens` this UTC month). On admission the request is counted
   * and holds a concurrency place until `release`.
   */
  admit(caller: Caller, promptTokens: number, monthUsedTokens: number, now = this.#clock()): Admission {
    const { rpm, tpm, concurrency, monthlyTokens } = caller.limits;
    if (rpm === undefined && tpm === undefined && concurrency === undefined) {
      return monthlyTokens !== undefined && monthUsedTokens >= monthlyTokens
        ? monthRefusal(monthlyTokens, monthUsedTokens, NO_HEADERS, now)
        : UNLIMITED;
    }
    this.#sweep(now);
    const prompt = promptTokens > 0 ? Math.ceil(promptTokens) : 0;
    let window = this.#windows.get(caller.keyId);
    if (!window) {
      window = new KeyWindow();
      this.#windows.set(caller.keyId, window);
    }
    window.advance(now);

    if (concurrency !== undefined && window.inFlight >= concurrency) {
      const message = `Rate limit reached for concurrent requests: Limit ${concurrency}, In flight ${window.inFlight}.`;
      // When a place frees is not known here: a second is a fair guess, and an answer's usual length.
      return refusal(message, concurrency > 0 ? SECOND : undefined, rateHeaders(caller, window, 0, now));
    }
    if (rpm !== undefined && window.requestCount >= rpm) {
      const wait = window.waitUntil(window.requests, window.requestCount, rpm - 1, now);
      const message = `Rate limit reached for requests per minute (rpm): Limit ${rpm}, Used ${window.requestCount}.`;
      return refusal(message, wait, rateHeaders(caller, window, 0, now));
    }
    if (tpm !== undefined && prompt > tpm) {
      const message = `Request too large for tokens per minute (tpm): Limit ${tpm}, Requested ${prompt}. A shorter prompt can run.`;
      return refusal(message, undefined, rateHeaders(caller, window, 0, now));
    }
    if (tpm !== undefined && window.tokenCount + prompt > tpm) {
      const wait = window.waitUntil(window.tokens, window.tokenCount, tpm - prompt, now);
      const message = `Rate limit reached for tokens per minute (tpm): Limit ${tpm}, Used ${window.tokenCount}, Requested ${prompt}.`;
      return refusal(message, wait, rateHeaders(caller, window, 0, now));
    }
    if (monthlyTokens !== undefined && monthUsedTokens >= monthlyTokens) {
      return monthRefusal(monthlyTokens, monthUsedTokens, rateHeaders(caller, window, 0, now), now);
    }

    window.count(1, 0);
    window.inFlight += 1;
    const headers = rateHeaders(caller, window, prompt, now);
    const counted = window;
    let released = false;
    return {
      ok: true,
      headers,
      release: (usedTokens, at = this.#clock()) => {
        if (released) return;
        released = true;
        counted.inFlight -= 1;
        counted.advance(at);
        counted.count(0, usedTokens > 0 ? Math.ceil(usedTokens) : 0);
      },
    };
  }

  /** How many keys have state held (windows not yet empty, or requests in flight). */
  get trackedKeys(): number {
    return this.#windows.size;
  }

  /** Drops keys whose windows have emptied and that have nothing in flight, once a minute at most. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [keyId, window] of this.#windows) {
      window.advance(now);
      if (window.idle) this.#windows.delete(keyId);
    }
  }
}

/** OpenAI's `x-ratelimit-*` headers for the key's rpm and tpm; `pending` are tokens this request is about to use. */
function rateHeaders(caller: Caller, window: KeyWindow, pending: number, now: number): Headers {
  const { rpm, tpm } = caller.limits;
  if (rpm === undefined && tpm === undefined) return NO_HEADERS;
  const headers: Record<string, string> = {};
  if (rpm !== undefined) {
    headers["x-ratelimit-limit-requests"] = String(rpm);
    headers["x-ratelimit-remaining-requests"] = String(Math.max(0, rpm - window.requestCount));
    headers["x-ratelimit-reset-requests"] = openAiDuration(window.waitUntil(window.requests, window.requestCount, 0, now) ?? 0);
  }
  if (tpm !== undefined) {
    headers["x-ratelimit-limit-tokens"] = String(tpm);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tpm - window.tokenCount - pending));
    headers["x-ratelimit-reset-tokens"] = openAiDuration(window.waitUntil(window.tokens, window.tokenCount, 0, now) ?? 0);
  }
  return headers;
}

function refusal(message: string, waitMs: number | undefined, headers: Headers, code: Refusal["code"] = "rate_limit_exceeded"): Refusal {
  if (waitMs === undefined)
    return { ok: false, status: 429, code, message: `${message} This key's limit does not allow it.`, retryable: false, headers };
  return {
    ok: false,
    status: 429,
    code,
    message: `${message} Please try again in ${openAiDuration(waitMs)}.`,
    retryable: true,
    headers: {
      ...headers,
      "retry-after": String(Math.max(1, Math.ceil(waitMs / SECOND))),
      "retry-after-ms": String(Math.max(1, Math.ceil(waitMs))),
    },
  };
}

function monthRefusal(limit: number, used: number, headers: Headers, now: number): Refusal {
  const today = new Date(now);
  const renews = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1);
  const message = `Monthly token budget reached: Limit ${limit}, Used ${used}. It renews on ${new Date(renews).toISOString().slice(0, 10)} (UTC).`;
  return refusal(message, limit > 0 ? renews - now : undefined, headers, "insufficient_quota");
}
