import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildFixture, DEFAULT_SOURCE, extractSchemas, FIXTURE } from "./extract-openai-schemas.ts";

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

  it("is deterministic, so re-running it leaves the committed file unchanged", () => {
    expect(buildFixture(description)).toBe(buildFixture(description));
  });

  // The full description is not in the repository; where it is at hand, the fixture must match it.
  it.skipIf(!existsSync(DEFAULT_SOURCE))("the committed fixture is what the extractor makes from the reference", () => {
    expect(readFileSync(FIXTURE, "utf8")).toBe(buildFixture(readFileSync(DEFAULT_SOURCE, "utf8")));
  });
});
