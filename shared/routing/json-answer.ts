import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import type { ResponseFormat } from "../protocol/messages.ts";

export type JsonAnswerCheck = { ok: true; value: unknown } | { ok: false; reason: string };

// One validator per schema object: a request's attempts on several rungs share its schema.
// @cfworker/json-schema interprets the schema rather than compiling code, so it runs in workerd.
const validators = new WeakMap<object, Validator>();

/**
 * Whether a model's answer is what `response_format` asked for: any JSON
 * object for `json_object`, an instance of the schema for `json_schema`.
 * The reason names where the answer went wrong, for the trace.
 */
export function checkJsonAnswer(text: string, format: ResponseFormat): JsonAnswerCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  if (format.type === "json_object") {
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    return isObject ? { ok: true, value } : { ok: false, reason: `expected a JSON object, got ${kindOf(value)}` };
  }

  let validator = validators.get(format.schema);
  if (!validator) {
    validator = new Validator(format.schema as Schema, "2020-12", false);
    validators.set(format.schema, validator);
  }
  let errors: OutputUnit[];
  try {
    ({ errors } = validator.validate(value));
  } catch (error) {
    // An unresolvable $ref surfaces only while validating; the answer cannot be checked against it.
    return { ok: false, reason: `schema '${format.name}' cannot be applied: ${firstLine((error as Error).message)}` };
  }
  const failure = mostSpecific(errors);
  if (!failure) return { ok: true, value };
  return { ok: false, reason: `${failure.instanceLocation} fails '${failure.keyword}': ${failure.error}` };
}

/**
 * The validator lists a summary ("Property "a" does not match schema.")
 * before the errors beneath it: follow the first chain down to its detail.
 * Not below anyOf/oneOf, though: one failed alternative's complaint would mislead.
 */
function mostSpecific(errors: readonly OutputUnit[]): OutputUnit | undefined {
  let current = errors[0];
  for (const next of errors.slice(1)) {
    if (!current || ALTERNATIVES.has(current.keyword) || !next.keywordLocation.startsWith(`${current.keywordLocation}/`)) break;
    current = next;
  }
  return current;
}

const ALTERNATIVES = new Set(["anyOf", "oneOf"]);

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]!.trim();
}
