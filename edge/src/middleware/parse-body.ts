import type { Context } from "hono";
import type { z } from "zod";
import { readCappedText } from "../read-capped-text.ts";
import { ApiError } from "./api-error.ts";

/** The largest request body the API reads: far above any text prompt a node's context could hold. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Read and validate a JSON body; any problem is a 400 that names the offending field.
 * `quick` may accept a body outright when a plain check shows the schema would return it as is.
 */
export async function parseBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  quick?: (body: unknown) => z.infer<S> | undefined,
): Promise<z.infer<S>> {
  const json = await readJson(c.req.raw);
  const plain = quick?.(json);
  if (plain !== undefined) return plain;
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = explain(parsed.error.issues[0]);
  const param = issue?.path.length ? issue.path.join(".") : null;
  const where = param ? `'${param}': ` : "";
  throw new ApiError({ status: 400, message: `Invalid request: ${where}${issue?.message ?? "bad input"}`, param, code: "invalid_request" });
}

/**
 * The body's JSON, refused with 413 past `MAX_BODY_BYTES`. A body that declares
 * its length (every SDK's does) is checked by the header and parsed natively;
 * a chunked one is read with a cap, so neither can hold more than the limit.
 */
async function readJson(request: Request): Promise<unknown> {
  const declared = request.headers.get("content-length");
  const text = declared !== null && Number(declared) <= MAX_BODY_BYTES ? undefined : await readCappedText(request, MAX_BODY_BYTES);
  try {
    return text === undefined ? await request.json() : JSON.parse(text);
  } catch {
    throw new ApiError({ status: 400, message: "The request body is not valid JSON.", code: "invalid_json" });
  }
}

type Issue = Pick<z.core.$ZodIssue, "path" | "message"> & { code?: string; errors?: Issue[][] };

/**
 * A union's own message is zod's "Invalid input"; the branch that got furthest
 * into the value says what is actually wrong (an image part where only text is
 * accepted, say), so report that one, at its full path.
 */
function explain(issue: Issue | undefined): Issue | undefined {
  if (issue?.code !== "invalid_union" || !issue.errors?.length) return issue;
  const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
  return deepest ? explain({ ...deepest, path: [...issue.path, ...deepest.path] }) : issue;
}
