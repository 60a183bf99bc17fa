/**
 * node-llama-cpp's schema-to-grammar converter never refuses: an unknown `type`
 * becomes `null`, a dangling `$ref` becomes "any value", malformed `properties`
 * vanish. Each would make the node answer something other than what the client
 * asked for, so such schemas are refused here, naming the place that is wrong.
 * Keywords the converter does not use (`pattern`, `format`, …) are left alone:
 * they narrow what is valid, and the edge validates the answer against them.
 * `anyOf` (pydantic writes it for every optional field) becomes `oneOf`, which
 * the converter knows: for a grammar both mean "any of these shapes".
 */
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);
const UNSUPPORTED = ["allOf", "not", "if"] as const;

export type GrammarSchemaCheck = { ok: true; schema: Record<string, unknown> } | { ok: false; message: string };

export function prepareGrammarSchema(schema: unknown): GrammarSchemaCheck {
  const copy: unknown = structuredClone(schema);
  const defs = isObject(copy) && isObject(copy.$defs) ? copy.$defs : {};
  const problem = walk(copy, "schema", defs);
  return problem ? { ok: false, message: problem } : { ok: true, schema: copy as Record<string, unknown> };
}

/** Checks one schema position and, in place, turns its `anyOf` into `oneOf`. */
function walk(node: unknown, at: string, defs: Record<string, unknown>): string | undefined {
  if (!isObject(node)) return `${at} must be an object`;
  for (const key of UNSUPPORTED) if (node[key] !== undefined) return `${at}.${key} is not supported by the JSON grammar`;
  if (node.anyOf !== undefined) {
    if (node.oneOf !== undefined) return `${at} has both anyOf and oneOf, which the JSON grammar cannot combine`;
    node.oneOf = node.anyOf;
    delete node.anyOf;
  }
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  for (const type of types)
    if (typeof type !== "string" || !TYPES.has(type)) return `${at}.type ${JSON.stringify(type)} is not a JSON Schema type`;
  if (typeof node.$ref === "string" && !(node.$ref.startsWith("#/$defs/") && node.$ref.slice(8) in defs)) {
    return `${at}.$ref ${JSON.stringify(node.$ref)} does not name an entry of the root's $defs`;
  }
  if (node.enum !== undefined && (!Array.isArray(node.enum) || node.enum.length === 0)) return `${at}.enum must be a non-empty array`;
  if (node.properties !== undefined) {
    if (!isObject(node.properties)) return `${at}.properties must be an object`;
    for (const [key, value] of Object.entries(node.properties)) {
      const problem = walk(value, `${at}.properties.${key}`, defs);
      if (problem) return problem;
    }
  }
  for (const key of ["items", "additionalProperties"] as const) {
    const value = node[key];
    if (value !== undefined && typeof value !== "boolean") {
      const problem = walk(value, `${at}.${key}`, defs);
      if (problem) return problem;
    }
  }
  for (const key of ["oneOf", "prefixItems"] as const) {
    const value = node[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length === 0) return `${at}.${key} must be a non-empty array`;
    for (const [i, option] of value.entries()) {
      const problem = walk(option, `${at}.${key}[${i}]`, defs);
      if (problem) return problem;
    }
  }
  for (const [name, def] of Object.entries(isObject(node.$defs) ? node.$defs : {})) {
    const problem = walk(def, `${at}.$defs.${name}`, defs);
    if (problem) return problem;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
