import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./api-error.ts";

/** Read and validate a JSON body; any problem is a 400 that names the offending field. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new ApiError({ status: 400, message: "The request body is not valid JSON.", code: "invalid_json" });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.length ? issue.path.join(".") : null;
  const where = param ? `'${param}': ` : "";
  throw new ApiError({ status: 400, message: `Invalid request: ${where}${issue?.message ?? "bad input"}`, param, code: "invalid_request" });
}
