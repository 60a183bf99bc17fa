import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildFixture, DEFAULT_SOURCE, extractSchemas, FIXTURE, ROOT_SCHEMAS } from "./extract-openai-schemas.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe("extractSchemas", () => {
  it("keeps the roots and what they reach through $ref, transitively, and nothing else", () => {
    const all = {
      Root: { type: "object", properties: { a: ref("A"), list: { type: "array", items: ref("B") } } },
      A: { anyOf: [ref("C"), { type: "null" }] },
      B: { type: "string" },
      C: { type: "integer" },
      Unused: { type: "boolean" },
    };
    expect(Object.keys(extractSchemas(all, ["Root"]))).toEqual(["A", "B", "C", "Root"]);
  });

  it("copes with schemas that refer to each other", () => {
    const all = { Tree: { type: "object", properties: { children: { type: "array", items: ref("Tree") } } } };
    expect(extractSchemas(all, ["Tree"])).toEqual(all);
  });

  it("rewrites OpenAPI's nullable as anyOf with null, so an enum beside it still admits null", () => {
    const all = { Reason: { type: "string", enum: ["stop", "length"], nullable: true, description: "Why it ended." } };
    expect(extractSchemas(all, ["Reason"]).Reason).toEqual({
      description: "Why it ended.",
      anyOf: [{ type: "string", enum: ["stop", "length"] }, { type: "null" }],
    });
  });

  it("rewrites nullable beside a $ref and inside properties", () => {
    const all = { Chunk: { type: "object", properties: { usage: { ...ref("Usage"), nullable: true } } }, Usage: { type: "object" } };
    expect(extractSchemas(all, ["Chunk"]).Chunk).toEqual({
      type: "object",
      properties: { usage: { anyOf: [ref("Usage"), { type: "null" }] } },
    });
  });

  it("drops nullable: false without wrapping", () => {
    expect(extractSchemas({ S: { type: "string", nullable: false } }, ["S"]).S).toEqual({ type: "string" });
  });

  it("drops x-* keywords but keeps properties and data that merely look like them", () => {
    const all = {
      Headers: {
        type: "object",
        "x-oaiTypeLabel": "map",
        properties: { "x-request-id": { type: "string", "x-stainless-const": true } },
        default: { "x-request-id": "abc" },
        enum: [{ "x-request-id": "abc" }],
      },
    };
    expect(extractSchemas(all, ["Headers"]).Headers).toEqual({
      type: "object",
      properties: { "x-request-id": { type: "string" } },
      default: { "x-request-id": "abc" },
      enum: [{ "x-request-id": "abc" }],
    });
  });

  it("refuses a root or reference the description does not have", () => {
    expect(() => extractSchemas({}, ["Missing"])).toThrow("schema Missing is not in the description");
    expect(() => extractSchemas({ Root: ref("Gone") }, ["Root"])).toThrow("schema Gone is not in the description");
  });

  it("refuses a $ref outside components.schemas rather than leave it dangling", () => {
    expect(() => extractSchemas({ Root: { $ref: "#/components/responses/Error" } }, ["Root"])).toThrow("unsupported $ref");
  });
});

describe("buildFixture", () => {
  const description = JSON.stringify({
    openapi: "3.1.0",
    info: { title: "OpenAI API", version: "9.9.9", license: { name: "MIT" } },
    components: {
      schemas: {
        CreateChatCompletionResponse: ref("Model"),
        CreateChatCompletionStreamResponse: { type: "object" },
        CreateCompletionResponse: { type: "object" },
        ListModelsResponse: { type: "object", properties: { data: { type: "array", items: ref("Model") } } },
        Model: { type: "object", required: ["id"] },
        ErrorResponse: { type: "object" },
        Unrelated: { type: "string" },
      },
    },
  });

  it("puts the schemas under components.schemas so #/components/schemas refs resolve", () => {
    const fixture = JSON.parse(buildFixture(description)) as { components: { schemas: Record<string, unknown> } };
    expect(Object.keys(fixture.components.schemas)).toEqual([
      "CreateChatCompletionResponse",
      "CreateChatCompletionStreamResponse",
      "CreateCompletionResponse",
      "ErrorResponse",
      "ListModelsResponse",
      "Model",
    ]);
  });

  it("notes the source, its version and licence in a header", () => {
    const { header } = JSON.parse(buildFixture(description)) as { header: Record<string, string> };
    expect(header.source).toContain("9.9.9");
    expect(header.license).toMatch(/^MIT/);
    expect(header.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the committed fixture", () => {
  const text = readFileSync(FIXTURE, "utf8");
  const fixture = JSON.parse(text) as {
    header: { generatedBy: string; source: string; sourceSha256: string; roots: string[] };
    components: { schemas: Record<string, unknown> };
  };
  const { schemas } = fixture.components;

  it("is the extractor's output in form: its header, its roots, formatted as the extractor writes", () => {
    expect(fixture.header.generatedBy).toMatch(/^tests\/contract\/extract-openai-schemas\.ts/);
    expect(fixture.header.source).toMatch(/^OpenAI's OpenAPI description/);
    expect(fixture.header.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fixture.header.roots).toEqual([...ROOT_SCHEMAS]);
    expect(text).toBe(`${JSON.stringify(fixture, null, 2)}\n`);
  });

  it("holds every root, every schema a $ref names, and nothing the roots do not reach", () => {
    for (const root of ROOT_SCHEMAS) expect(Object.keys(schemas)).toContain(root);
    const named = [...text.matchAll(/"\$ref": "#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !(name in schemas))).toEqual([]);
    // Extracting the roots from the fixture itself gives the fixture back, key for key and in order:
    // nothing unreached, nothing left to normalize (no nullable, no x-* keyword), sorted by name.
    expect(JSON.stringify(extractSchemas(schemas as never, ROOT_SCHEMAS))).toBe(JSON.stringify(schemas));
  });

  // The full description is not in the repository (it lies beside it, in ../shared/reference);
  // where it is at hand the fixture must be exactly what the extractor makes of it, and where it
  // is not the report says so by name rather than passing in silence.
  const reference = fileURLToPath(DEFAULT_SOURCE);
  const referenceHere = existsSync(DEFAULT_SOURCE);
  it.skipIf(!referenceHere)(
    referenceHere
      ? "is what the extractor makes from the reference description"
      : `comparison with the reference description NOT RUN: ${reference} is absent (only beside a checkout that has ../shared/reference)`,
    () => {
      expect(text).toBe(buildFixture(readFileSync(DEFAULT_SOURCE, "utf8")));
    },
  );
});
