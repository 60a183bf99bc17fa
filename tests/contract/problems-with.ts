/**
 * Validates a body against one of OpenAI's own response schemas
 * (tests/fixtures/openai-schemas.json, cut from OpenAI's OpenAPI description by
 * extract-openai-schemas.ts). Shared by the builders' contract test and the
 * end-to-end test of the bodies a running edge sends.
 */
import { readFileSync } from "node:fs";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { FIXTURE, type ROOT_SCHEMAS } from "./extract-openai-schemas.ts";

export type SchemaName = (typeof ROOT_SCHEMAS)[number];

export interface Problem {
  /** JSON pointer into the body, `` for the body itself. */
  at: string;
  message: string;
}

const DOCUMENT_ID = "https://rung.invalid/openai-schemas.json";

export const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { components: { schemas: Record<string, unknown> } };

// The extractor already dropped x-* extensions and rewrote OpenAPI's `nullable`, which ajv
// refuses beside a bare $ref. strict: false lets the remaining OpenAPI-only keywords
// (discriminator, example) pass; formats such as `unixtime` are OpenAI's own, so unchecked.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: DOCUMENT_ID, components: fixture.components });

const validators = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` });
    validators.set(name, validate);
  }
  return validate;
}

/** What OpenAI's schema finds wrong with a body; empty when it conforms. */
export function problemsWith(name: SchemaName, body: unknown): Problem[] {
  const validate = validatorFor(name);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) => ({ at: error.instancePath, message: error.message ?? error.keyword }));
}
