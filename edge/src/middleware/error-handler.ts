import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env.ts";
import { ApiError } from "./api-error.ts";

/** Every error leaves the edge in OpenAI's shape; anything unexpected is logged and becomes a 500. */
export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof ApiError) return error.toResponse();
  if (error instanceof HTTPException && error.status < 500) {
    // Hono raises these for malformed input it parses itself, e.g. a body that is not JSON.
    return new ApiError({ status: 400, message: error.message || "Bad request" }).toResponse();
  }
  console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), error: String(error) }));
  return new ApiError({ status: 500, message: "Internal error", code: "internal_error" }).toResponse();
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  new ApiError({
    status: 404,
    message: `Unknown route ${c.req.method} ${new URL(c.req.url).pathname}`,
    code: "unknown_url",
  }).toResponse();
