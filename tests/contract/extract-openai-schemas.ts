/**
 * Cuts the response schemas Rung must honour out of OpenAI's OpenAPI description
 * (3.4 MB) into tests/fixtures/openai-schemas.json (tens of KB), so the contract
 * test runs without the full description at hand.
 *
 *   npx tsx tests/contract/extract-openai-schemas.ts [path/to/openai-openapi.json]
 *
 * The default source is shared/reference/openai-openapi.json beside the repository.
 * Re-run it when that description is updated and commit the fixture; never edit the
 * fixture by hand.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The bodies Rung emits, by the name OpenAI gives their schema. */
export const ROOT_SCHEMAS = [
  "CreateChatCompletionResponse",
  "CreateChatCompletionStreamResponse",
  "CreateCompletionResponse",
  "ListModelsResponse",
  "Model",
  "ErrorResponse",
] as const;

const SCHEMA_REF_PREFIX = "#/components/schemas/";
export const DEFAULT_SOURCE = new URL("../../../shared/reference/openai-openapi.json", import.meta.url);
export const FIXTURE = new URL("../fixtures/openai-schemas.json", import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Keywords whose value is a map from names to schemas. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "dependentSchemas"]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
/** Keywords whose value is one schema. */
const SCHEMA_VALUES = new Set([
  "items",
  "additionalProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
]);

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Makes one schema plain JSON Schema 2020-12, walking only schema positions so that
 * data (`enum`, `default`, `example`) is copied untouched:
 * - drops `x-*` vendor extensions (`x-oaiTypeLabel`, `x-stainless-const`, `x-oaiMeta`);
 * - rewrites OpenAPI 3.0's `nullable: true`, which the 3.1 description still uses in places
 *   and which 2020-12 ignores, as `anyOf: [schema, { type: "null" }]`; wrapping rather than
 *   adding "null" to `type` keeps an `enum` or `$ref` beside it from refusing null.
 */
function normalizeSchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  let nullable = false;
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword.startsWith("x-")) continue;
    if (keyword === "nullable") {
      nullable = value === true;
      continue;
    }
    if (SCHEMA_MAPS.has(keyword) && isObject(value)) {
      out[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, normalizeSchema(sub)]));
    } else if (SCHEMA_LISTS.has(keyword) && Array.isArray(value)) {
      out[keyword] = value.map(normalizeSchema);
    } else if (SCHEMA_VALUES.has(keyword)) {
      out[keyword] = normalizeSchema(value);
    } else {
      out[keyword] = value;
    }
  }
  if (!nullable) return out;
  const { description, ...rest } = out;
  return {
    ...(description === undefined ? {} : { description }),
    anyOf: [rest, { type: "null" }],
  };
}

/** Every `#/components/schemas/X` a schema refers to, directly. */
function refsIn(value: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") {
        if (!item.startsWith(SCHEMA_REF_PREFIX)) throw new Error(`unsupported $ref ${item}`);
        found.add(item.slice(SCHEMA_REF_PREFIX.length));
      } else refsIn(item, found);
    }
  }
  return found;
}

/** The named schemas and everything they reach through `$ref`, normalized, sorted by name. */
export function extractSchemas(allSchemas: JsonObject, roots: readonly string[]): JsonObject {
  const picked = new Map<string, Json>();
  const pending = [...roots];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (picked.has(name)) continue;
    const schema = allSchemas[name];
    if (schema === undefined) throw new Error(`schema ${name} is not in the description`);
    const normalized = normalizeSchema(schema);
    picked.set(name, normalized);
    pending.push(...refsIn(normalized));
  }
  return Object.fromEntries([...picked].sort(([a], [b]) => a.localeCompare(b)));
}

/** The fixture's text for a description's text: deterministic, so a re-run changes nothing. */
export function buildFixture(sourceText: string): string {
  const description = JSON.parse(sourceText) as JsonObject;
  const info = isObject(description.info) ? description.info : {};
  const license = isObject(info.license) ? info.license : {};
  const components = isObject(description.components) ? description.components : {};
  if (!isObject(components.schemas)) throw new Error("the description has no components.schemas");

  const schemas = extractSchemas(components.schemas, ROOT_SCHEMAS);
  const fixture = {
    header: {
      generatedBy: "tests/contract/extract-openai-schemas.ts: do not edit by hand, re-run it",
      source: `OpenAI's OpenAPI description of its REST API, "${String(info.title)}" version ${String(info.version)}, OpenAPI ${String(description.openapi)}`,
      sourceSha256: createHash("sha256").update(sourceText).digest("hex"),
      license: `${String(license.name ?? license.identifier)}, as the source declares in info.license; these schemas are an excerpt of it`,
      roots: ROOT_SCHEMAS,
      changes: [
        "only the root schemas and the component schemas they reach through $ref are kept",
        "x-* vendor extensions are dropped",
        'OpenAPI 3.0 "nullable: true" is rewritten as anyOf [schema, {type: "null"}]',
      ],
    },
    components: { schemas },
  };
  return `${JSON.stringify(fixture, null, 2)}\n`;
}

function main(): void {
  const sourcePath = process.argv[2] ?? fileURLToPath(DEFAULT_SOURCE);
  const text = buildFixture(readFileSync(sourcePath, "utf8"));
  writeFileSync(FIXTURE, text);
  const schemaCount = Object.keys((JSON.parse(text) as { components: { schemas: object } }).components.schemas).length;
  console.log(`${fileURLToPath(FIXTURE)}: ${schemaCount} schemas, ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB`);
}

// Runs only as a script, so tests can import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
