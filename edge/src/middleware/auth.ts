import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { ApiError } from "./api-error.ts";

/** Bearer key check for the OpenAI API; open when no keys are configured (local dev). */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const keys = listOf(c.env.RUNG_API_KEYS);
  if (keys.length > 0 && !keys.some((key) => timingSafeEqual(key, bearerOf(c.req.header("authorization"))))) {
    throw new ApiError({
      status: 401,
      message: "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.",
      code: "invalid_api_key",
    });
  }
  await next();
});

/**
 * The operator's key for `/admin/*`. Unlike the API, admin routes are closed
 * when no key is configured: changing the policy of a public edge must never be open.
 */
export const adminKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.RUNG_ADMIN_KEY;
  if (!expected) {
    throw new ApiError({
      status: 403,
      message: "Admin routes are disabled: set the RUNG_ADMIN_KEY secret to enable them.",
      code: "admin_disabled",
    });
  }
  if (!timingSafeEqual(expected, bearerOf(c.req.header("authorization")))) {
    throw new ApiError({
      status: 401,
      message: "Incorrect admin key. Send RUNG_ADMIN_KEY as 'Authorization: Bearer <key>'.",
      code: "invalid_api_key",
    });
  }
  await next();
});

/** Nodes present the join token as a bearer header, or `?token=` where a browser cannot set headers. */
export function nodeTokenAccepted(expected: string | undefined, request: Request): boolean {
  if (!expected) return true;
  const given = bearerOf(request.headers.get("authorization") ?? undefined) || new URL(request.url).searchParams.get("token") || "";
  return timingSafeEqual(expected, given);
}

function bearerOf(header: string | undefined): string {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match?.[1]?.trim() ?? "";
}

function listOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function timingSafeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.length !== right.length) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}
