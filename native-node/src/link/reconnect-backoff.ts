import type { BackoffSettings } from "@rung/shared/routing";

/** Reconnect waits: full jitter under a ceiling that doubles from 1 s to 30 s, never below 0.5 s. */
export const RECONNECT_BACKOFF: Readonly<BackoffSettings> = { baseDelayMs: 1_000, maxDelayMs: 30_000, minDelayMs: 500 };
