import { describe, expect, it } from "vitest";
import type { ResponseFormat } from "../../protocol/messages.ts";
import { checkJsonAnswer } from "../../routing/json-answer.ts";

const jsonObject: ResponseFormat = { type: "json_object" };

function schema(value: Record<string, unknown>): ResponseFormat {
  return { type: "json_schema", name: "answer", schema: value };
}

const person = schema({
  type: "object",
  required: ["name", "age"],
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
  additionalProperties: false,
});

describe("checkJsonAnswer with json_object", () => {
  it("accepts a JSON object and returns it parsed", () => {
    expect(checkJsonAnswer(' {"a": [1, 2]} ', jsonObject)).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it("refuses text that does not parse", () => {
    const check = checkJsonAnswer('{"a": ', jsonObject);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/^not JSON: /);
  });

  it("refuses JSON that is not an object", () => {
    expect(checkJsonAnswer("[1]", jsonObject)).toEqual({ ok: false, reason: "expected a JSON object, got an array" });
    expect(checkJsonAnswer("null", jsonObject)).toEqual({ ok: false, reason: "expected a JSON object, got null" });
    expect(checkJsonAnswer('"hi"', jsonObject)).toEqual({ ok: false, reason: "expected a JSON object, got a string" });
  });
});

describe("checkJsonAnswer with json_schema", () => {
  it("accepts an instance of the schema", () => {
    expect(checkJsonAnswer('{"name": "Ada", "age": 36}', person)).toEqual({ ok: true, value: { name: "Ada", age: 36 } });
  });

  it("refuses text that does not parse", () => {
    const check = checkJsonAnswer("name: Ada", person);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/^not JSON: /);
  });

  it("names the keyword when the answer has the wrong type", () => {
    expect(checkJsonAnswer("[]", person)).toEqual({
      ok: false,
      reason: `# fails 'type': Instance type "array" is invalid. Expected "object".`,
    });
  });

  it("names a missing required property", () => {
    expect(checkJsonAnswer('{"name": "Ada"}', person)).toEqual({
      ok: false,
      reason: `# fails 'required': Instance does not have required property "age".`,
    });
  });

  it("names the nested location that failed, not only the summary above it", () => {
    expect(checkJsonAnswer('{"name": "Ada", "age": 3.5}', person)).toEqual({
      ok: false,
      reason: `#/age fails 'type': Instance type "number" is invalid. Expected "integer".`,
    });
  });

  it("names an unexpected property", () => {
    const check = checkJsonAnswer('{"name": "Ada", "age": 36, "extra": 1}', person);
    expect(check).toEqual({
      ok: false,
      reason: `# fails 'additionalProperties': Property "extra" does not match additional properties schema.`,
    });
  });

  it("follows $ref into $defs", () => {
    const team = schema({
      type: "object",
      required: ["members"],
      properties: { members: { type: "array", items: { $ref: "#/$defs/member" } } },
      $defs: { member: { type: "object", required: ["id"], properties: { id: { type: "string" } } } },
    });
    expect(checkJsonAnswer('{"members": [{"id": "a"}, {"id": "b"}]}', team).ok).toBe(true);
    expect(checkJsonAnswer('{"members": [{"id": "a"}, {"id": 2}]}', team)).toEqual({
      ok: false,
      reason: `#/members/1/id fails 'type': Instance type "number" is invalid. Expected "string".`,
    });
  });

  it("stops at anyOf rather than blaming one alternative", () => {
    const either = schema({ anyOf: [{ type: "string" }, { type: "number" }] });
    expect(checkJsonAnswer("true", either)).toEqual({
      ok: false,
      reason: "# fails 'anyOf': Instance does not match any subschemas.",
    });
  });

  it("uses draft 2020-12 keywords", () => {
    const pair = schema({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false });
    expect(checkJsonAnswer('["a", 1]', pair).ok).toBe(true);
    expect(checkJsonAnswer('["a", 1, 2]', pair).ok).toBe(false);
  });

  it("reports a schema whose $ref cannot be resolved instead of throwing", () => {
    const broken = schema({ $ref: "#/$defs/missing" });
    const check = checkJsonAnswer("{}", broken);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/^schema 'answer' cannot be applied: Unresolved \$ref/);
  });

  it("gives the same verdict when the schema is checked again, and leaves the schema as it was sent", () => {
    const sent = JSON.stringify(person);
    expect(checkJsonAnswer('{"name": "Ada"}', person).ok).toBe(false);
    expect(JSON.stringify(person)).toBe(sent);
    expect(checkJsonAnswer('{"name": "Ada", "age": 1}', person).ok).toBe(true);
  });
});
