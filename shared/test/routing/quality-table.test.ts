import { describe, expect, it } from "vitest";
import { ESTIMATED_SOURCE, estimateFromParameters, QUALITY_TABLE, qualityOf } from "../../routing/quality-table.ts";

describe("qualityOf: the shipped table", () => {
  it.each([
    ["qwen2.5-0.5b-instruct-q4_k_m", 47.5],
    ["Qwen2.5-0.5B-Instruct-q4f16_1-MLC", 47.5],
    ["Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", 60.9],
    ["qwen2_5-3b-instruct", 65.6],
    ["Qwen/Qwen2.5-7B-Instruct-GGUF", 74.2],
    ["qwen2.5-14b-instruct-q4_k_m", 79.7],
    ["Qwen2.5-32B-Instruct", 83.3],
    ["qwen2.5-72b", 86.1],
    ["llama-3.2-1b", 49.3],
    ["Llama-3.2-1B-Instruct-q4f16_1-MLC", 49.3],
    ["Llama-3.2-3B-Instruct-Q4_K_M.gguf", 63.4],
    ["Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 66.7],
    ["Llama-3.1-8B-Instruct-q4f32_1-MLC", 66.7],
    ["llama3.1-70b", 79.3],
    ["gemma-2-2b-it-q4f16_1-MLC", 51.3],
    ["gemma-2-9b-it-Q4_K_M.gguf", 71.3],
    ["gemma2-27b", 75.2],
    ["Phi-3-mini-4k-instruct-q4f16_1-MLC", 68.8],
    ["phi-3-mini-128k-instruct.Q4_K_M.gguf", 68.8],
    ["Mistral-7B-Instruct-v0.3-q4f16_1-MLC", 60.1],
    ["mistral-7b-instruct-v0.2.Q4_K_M.gguf", 60.1],
  ])("%s scores %d, with its source", (id, score) => {
    const quality = qualityOf(id, 1_000_000_000, {});
    expect(quality.score).toBe(score);
    expect(quality.source).toMatch(/https:\/\//);
  });

  it.each([
    ["qwen2.5-coder-7b-instruct", "the general Qwen2.5 7B"],
    ["qwen2-7b-instruct", "Qwen2.5 7B"],
    ["gemma-2b-it", "Gemma 2 2B"],
    ["phi-3.5-mini-instruct", "Phi-3-mini"],
    ["llama-3-8b-instruct", "Llama 3.1 8B"],
    ["mixtral-8x7b-instruct", "Mistral 7B"],
  ])("%s is not mistaken for %s: it is estimated", (id) => {
    expect(qualityOf(id, 7_000_000_000, {}).source).toBe(ESTIMATED_SOURCE);
  });

  it("every figure cites a title and an https address", () => {
    for (const figure of QUALITY_TABLE) {
      expect(figure.source.title.length).toBeGreaterThan(0);
      expect(figure.source.url).toMatch(/^https:\/\//);
    }
  });
});

describe("qualityOf: operator overrides and the estimate", () => {
  it("prefers the operator's score to the table", () => {
    expect(qualityOf("qwen2.5-7b-instruct", 7e9, { "qwen2.5-7b-instruct": 90 })).toEqual({ score: 90, source: "operator policy" });
  });

  it("applies an override only to the id it names", () => {
    expect(qualityOf("qwen2.5-7b-instruct", 7e9, { "qwen2.5-3b-instruct": 90 }).score).toBe(74.2);
  });

  it("estimates an unknown model from its size and says so", () => {
    const quality = qualityOf("my-finetune-v2", 7e9, {});
    expect(quality).toEqual({ score: estimateFromParameters(7e9), source: ESTIMATED_SOURCE });
    expect(quality.source).toContain("estimated from parameter count");
  });

  it("estimates higher for bigger models, between chance and 90", () => {
    const sizes = [1e6, 1e8, 5e8, 1e9, 3e9, 7e9, 70e9, 400e9, 1e13];
    const scores = sizes.map(estimateFromParameters);
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeGreaterThanOrEqual(scores[i - 1]!);
    expect(scores[0]).toBe(25);
    expect(scores.at(-1)).toBe(90);
    expect(estimateFromParameters(7e9)).toBeGreaterThan(estimateFromParameters(3e9));
  });
});
