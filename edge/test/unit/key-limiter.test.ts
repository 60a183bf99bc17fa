import { describe, expect, it } from "vitest";
import { type Admission, KeyLimiter } from "../../src/fabric/key-limiter.ts";
import { openAiDuration } from "../../src/fabric/openai-duration.ts";
import type { Caller, KeyLimits } from "../../src/keys/caller.ts";

/** A whole second, so the window's one-second slots line up with the test's arithmetic. */
const T = Date.UTC(2026, 6, 15, 12, 0, 0);

function caller(limits: KeyLimits, keyId = "key_a"): Caller {
  return { keyId, name: keyId, pool: "main", tiers: ["private"], limits };
}

/** A limiter on a clock the test moves. */
function fakeClock() {
  const clock = { now: T };
  return { clock, limiter: new KeyLimiter(() => clock.now) };
}

function admitted(admission: Admission): Extract<Admission, { ok: true }> {
  if (!admission.ok) throw new Error(`refused: ${admission.message}`);
  return admission;
}

function refused(admission: Admission): Extract<Admission, { ok: false }> {
  if (admission.ok) throw new Error("admitted");
  return admission;
}

describe("openAiDuration", () => {
  it("writes spans as OpenAI's reset headers do", () => {
    expect(openAiDuration(0)).toBe("0s");
    expect(openAiDuration(-5)).toBe("0s");
    expect(openAiDuration(120)).toBe("120ms");
    expect(openAiDuration(0.2)).toBe("1ms");
    expect(openAiDuration(1000)).toBe("1s");
    expect(openAiDuration(1898)).toBe("1.898s");
    expect(openAiDuration(360_000)).toBe("6m0s");
    expect(openAiDuration(86_400)).toBe("1m26.4s");
    expect(openAiDuration(3_600_000)).toBe("1h0m0s");
    expect(openAiDuration(3_723_500)).toBe("1h2m3.5s");
  });
});

describe("KeyLimiter", () => {
  it("admits a key without limits with one shared admission and no headers", () => {
    const { limiter } = fakeClock();
    const first = admitted(limiter.admit(caller({}), 1_000_000, 1e12));
    const second = admitted(limiter.admit(caller({}), 5, 0));
    expect(first.headers).toEqual({});
    expect(second).toBe(first);
    first.release(10);
    first.release(10);
    expect(limiter.trackedKeys).toBe(0);
  });

  it("counts requests per minute over a sliding window", () => {
    const { clock, limiter } = fakeClock();
    const key = caller({ rpm: 2 });
    const first = admitted(limiter.admit(key, 10, 0));
    expect(first.headers).toEqual({
      "x-ratelimit-limit-requests": "2",
      "x-ratelimit-remaining-requests": "1",
      // A request counts for its second and the 60 after.
      "x-ratelimit-reset-requests": "1m1s",
    });
    first.release(20);

    clock.now = T + 30_000;
    expect(admitted(limiter.admit(key, 10, 0)).headers["x-ratelimit-remaining-requests"]).toBe("0");
    const refusal = refused(limiter.admit(key, 10, 0));
    expect(refusal).toMatchObject({ status: 429, code: "rate_limit_exceeded", retryable: true });
    expect(refusal.message).toBe("Rate limit reached for requests per minute (rpm): Limit 2, Used 2. Please try again in 31s.");
    expect(refusal.headers).toEqual({
      "x-ratelimit-limit-requests": "2",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1m1s",
      "retry-after": "31",
      "retry-after-ms": "31000",
    });

    // A refusal is not counted, and the first request is still in the window a moment before it leaves.
    clock.now = T + 60_999;
    expect(refused(limiter.admit(key, 10, 0)).headers["retry-after-ms"]).toBe("1");

    clock.now = T + 61_000;
    expect(admitted(limiter.admit(key, 10, 0)).headers["x-ratelimit-remaining-requests"]).toBe("0");
    expect(refused(limiter.admit(key, 10, 0)).message).toContain("Please try again in 30s.");
  });

  it("gives sub-second waits in milliseconds and retry-after as at least a second", () => {
    const { clock, limiter } = fakeClock();
    const key = caller({ rpm: 1 });
    clock.now = T + 500;
    admitted(limiter.admit(key, 1, 0));
    clock.now = T + 60_700;
    const refusal = refused(limiter.admit(key, 1, 0));
    expect(refusal.message).toContain("Please try again in 300ms.");
    expect(refusal.headers).toMatchObject({ "retry-after": "1", "retry-after-ms": "300", "x-ratelimit-reset-requests": "300ms" });
  });

  it("counts tokens per minute when a request is released, and refuses a prompt that would pass the limit", () => {
    const { clock, limiter } = fakeClock();
    const key = caller({ tpm: 1000 });
    const first = admitted(limiter.admit(key, 300, 0));
    expect(first.headers).toEqual({
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "700",
      "x-ratelimit-reset-tokens": "0s",
    });
    clock.now = T + 1000;
    first.release(500);

    clock.now = T + 2000;
    const refusal = refused(limiter.admit(key, 600, 0));
    expect(refusal.message).toBe(
      "Rate limit reached for tokens per minute (tpm): Limit 1000, Used 500, Requested 600. Please try again in 1m0s.",
    );
    expect(refusal.headers).toEqual({
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "500",
      "x-ratelimit-reset-tokens": "1m0s",
      "retry-after": "60",
      "retry-after-ms": "60000",
    });

    const fits = admitted(limiter.admit(key, 400, 0));
    expect(fits.headers["x-ratelimit-remaining-tokens"]).toBe("100");
    fits.release(450);

    // The first release's tokens leave first: 450 left, so a prompt of 550 fits again.
    clock.now = T + 62_000;
    expect(admitted(limiter.admit(key, 550, 0)).headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });

  it("refuses a prompt bigger than the key's tpm for good, without retry-after", () => {
    const { limiter } = fakeClock();
    const refusal = refused(limiter.admit(caller({ tpm: 1000 }), 1500, 0));
    expect(refusal).toMatchObject({ status: 429, code: "rate_limit_exceeded", retryable: false });
    expect(refusal.message).toContain("Request too large for tokens per minute (tpm): Limit 1000, Requested 1500.");
    expect(refusal.headers).toEqual({
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "1000",
      "x-ratelimit-reset-tokens": "0s",
    });
  });

  it("holds a concurrency place until release, and release frees it once", () => {
    const { limiter } = fakeClock();
    const key = caller({ concurrency: 1, tpm: 1000 });
    const first = admitted(limiter.admit(key, 10, 0));
    const refusal = refused(limiter.admit(key, 10, 0));
    expect(refusal.message).toContain("Rate limit reached for concurrent requests: Limit 1, In flight 1.");
    expect(refusal.headers).toMatchObject({ "retry-after": "1", "retry-after-ms": "1000" });

    first.release(100);
    first.release(100);
    const second = admitted(limiter.admit(key, 10, 0));
    // Only the first release counted its tokens.
    expect(second.headers["x-ratelimit-remaining-tokens"]).toBe(String(1000 - 100 - 10));
    // And only one place was freed: the second request holds it.
    expect(refused(limiter.admit(key, 10, 0)).message).toContain("concurrent requests");
  });

  it("gives concurrency-only keys no rate headers", () => {
    const { limiter } = fakeClock();
    const admission = admitted(limiter.admit(caller({ concurrency: 2 }), 10, 0));
    expect(admission.headers).toEqual({});
  });

  it("checks concurrency before requests per minute", () => {
    const { limiter } = fakeClock();
    const key = caller({ concurrency: 1, rpm: 1 });
    const first = admitted(limiter.admit(key, 1, 0));
    expect(refused(limiter.admit(key, 1, 0)).message).toContain("concurrent requests");
    first.release(1);
    expect(refused(limiter.admit(key, 1, 0)).message).toContain("requests per minute (rpm)");
  });

  it("refuses a key past its monthly budget until the next UTC month", () => {
    const { clock, limiter } = fakeClock();
    const key = caller({ monthlyTokens: 1000 });
    admitted(limiter.admit(key, 10, 999));

    clock.now = Date.UTC(2026, 6, 31, 23, 59, 30);
    const refusal = refused(limiter.admit(key, 10, 1000));
    expect(refusal).toMatchObject({ status: 429, code: "insufficient_quota", retryable: true });
    expect(refusal.message).toBe(
      "Monthly token budget reached: Limit 1000, Used 1000. It renews on 2026-08-01 (UTC). Please try again in 30s.",
    );
    expect(refusal.headers).toEqual({ "retry-after": "30", "retry-after-ms": "30000" });

    // December renews in January of the next year.
    const december = refused(limiter.admit(key, 10, 5000, Date.UTC(2026, 11, 15)));
    expect(december.headers["retry-after"]).toBe(String(17 * 86_400));
    expect(december.message).toContain("It renews on 2027-01-01 (UTC).");
  });

  it("checks the monthly budget after the per-minute limits, and keeps their headers", () => {
    const { limiter } = fakeClock();
    const key = caller({ rpm: 5, monthlyTokens: 100 });
    const refusal = refused(limiter.admit(key, 10, 100));
    expect(refusal.code).toBe("insufficient_quota");
    expect(refusal.headers).toMatchObject({ "x-ratelimit-limit-requests": "5", "x-ratelimit-remaining-requests": "5" });
    // The refused request was not counted.
    expect(admitted(limiter.admit(key, 10, 0)).headers["x-ratelimit-remaining-requests"]).toBe("4");
  });

  it("says a limit of 0 admits nothing, without retry-after", () => {
    const { limiter } = fakeClock();
    const refusal = refused(limiter.admit(caller({ rpm: 0 }), 1, 0));
    expect(refusal.retryable).toBe(false);
    expect(refusal.headers["retry-after"]).toBeUndefined();
    expect(refused(limiter.admit(caller({ monthlyTokens: 0 }), 1, 0)).retryable).toBe(false);
  });

  it("keeps keys apart, and drops keys whose windows emptied with nothing in flight", () => {
    const { clock, limiter } = fakeClock();
    admitted(limiter.admit(caller({ rpm: 1 }, "key_a"), 1, 0)).release(1);
    const held = admitted(limiter.admit(caller({ concurrency: 1 }, "key_b"), 1, 0));
    const other = admitted(limiter.admit(caller({ rpm: 1 }, "key_c"), 1, 0));
    expect(other.headers["x-ratelimit-remaining-requests"]).toBe("0");
    other.release(1);
    expect(limiter.trackedKeys).toBe(3);

    clock.now = T + 120_000;
    admitted(limiter.admit(caller({ rpm: 1 }, "key_d"), 1, 0));
    // key_a and key_c emptied; key_b still has a request in flight.
    expect(limiter.trackedKeys).toBe(2);
    held.release(1);
    expect(limiter.admit(caller({ concurrency: 1 }, "key_b"), 1, 0).ok).toBe(true);
  });
});
