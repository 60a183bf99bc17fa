import { type ModelRecord, prebuiltAppConfig } from "@mlc-ai/web-llm";
import { describe, expect, it } from "vitest";
import {
  type AdapterFacts,
  chooseWebllmModel,
  estimateParameters,
  gpuMemoryBudget,
  parametersOf,
  quantizationOf,
} from "../../src/engines/choose-webllm-model.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Records from the real package's prebuilt list (0.2.86), so the figures are WebLLM's own. */
function records(...ids: string[]): ModelRecord[] {
  return ids.map((id) => {
    const record = prebuiltAppConfig.model_list.find((model) => model.model_id === id);
    if (!record) throw new Error(`${id} is not in WebLLM's prebuilt list`);
    return record;
  });
}

const desktop = (features: string[] = ["shader-f16"]): AdapterFacts => ({
  features: new Set(features),
  limits: { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 4 * GiB - 4 },
  deviceMemoryGb: 8,
});
/** An Android phone as Chrome reports it: the WebGPU default binding limit and 4 GiB of RAM. */
const phone = (features: string[] = ["shader-f16"]): AdapterFacts => ({
  features: new Set(features),
  limits: { maxBufferSize: GiB, maxStorageBufferBindingSize: 128 * MiB },
  deviceMemoryGb: 4,
});

const ids = (choice: { candidates: { modelId: string }[] }) => choice.candidates.map((candidate) => candidate.modelId);
const reasonFor = (choice: { excluded: { modelId: string; reason: string }[] }, id: string) =>
  choice.excluded.find((entry) => entry.modelId === id)?.reason;

describe("chooseWebllmModel", () => {
  const f16Only = "SmolLM2-360M-Instruct-q4f16_1-MLC"; // lists shader-f16 in required_features
  const plain = "Qwen2.5-0.5B-Instruct-q4f16_1-MLC"; // lists no feature

  it("leaves out models that need shader-f16 on a GPU without it, and says why", () => {
    const choice = chooseWebllmModel(desktop([]), records(f16Only, plain));
    expect(ids(choice)).toEqual([plain]);
    expect(reasonFor(choice, f16Only)).toBe("needs shader-f16, which this GPU lacks");
  });

  it("offers them where the GPU has shader-f16", () => {
    const choice = chooseWebllmModel(desktop(), records(f16Only, plain));
    expect(ids(choice)).toEqual([plain, f16Only]);
    expect(choice.excluded).toEqual([]);
  });

  it("ranks the largest model that fits first and says how much memory the others need", () => {
    const slice = records(
      "Qwen2.5-0.5B-Instruct-q4f16_1-MLC",
      "Qwen2.5-7B-Instruct-q4f16_1-MLC",
      "Qwen2.5-3B-Instruct-q4f16_1-MLC",
      "Llama-3.1-8B-Instruct-q4f16_1-MLC",
      "Qwen2.5-1.5B-Instruct-q4f16_1-MLC",
    );
    const choice = chooseWebllmModel(desktop(), slice);
    expect(choice.budgetMB).toBe(4096);
    expect(ids(choice)).toEqual([
      "Qwen2.5-3B-Instruct-q4f16_1-MLC",
      "Qwen2.5-1.5B-Instruct-q4f16_1-MLC",
      "Qwen2.5-0.5B-Instruct-q4f16_1-MLC",
    ]);
    expect(reasonFor(choice, "Qwen2.5-7B-Instruct-q4f16_1-MLC")).toBe("needs 5 GB of GPU memory; this device can likely spare about 4 GB");
    expect(reasonFor(choice, "Llama-3.1-8B-Instruct-q4f16_1-MLC")).toBe(
      "needs 4.9 GB of GPU memory; this device can likely spare about 4 GB",
    );

    const generous = chooseWebllmModel(desktop(), slice, { vramBudgetMB: 8192 });
    expect(ids(generous).slice(0, 2)).toEqual(["Llama-3.1-8B-Instruct-q4f16_1-MLC", "Qwen2.5-7B-Instruct-q4f16_1-MLC"]);
  });

  it("prefers the smaller of two builds of one model with the same context", () => {
    const choice = chooseWebllmModel(desktop(), records("Qwen2.5-1.5B-Instruct-q4f32_1-MLC", "Qwen2.5-1.5B-Instruct-q4f16_1-MLC"));
    expect(ids(choice)).toEqual(["Qwen2.5-1.5B-Instruct-q4f16_1-MLC", "Qwen2.5-1.5B-Instruct-q4f32_1-MLC"]);
  });

  it("puts low-resource builds first on a low-memory device", () => {
    // gemma-2-2b-it (1.9 GB, not low-resource) fits both; the 1k stablelm build is marked low-resource.
    const slice = records("gemma-2-2b-it-q4f16_1-MLC", "stablelm-2-zephyr-1_6b-q4f16_1-MLC-1k", "Qwen2.5-0.5B-Instruct-q4f16_1-MLC");
    const onPhone = chooseWebllmModel(phone(), slice);
    expect(onPhone.lowMemory).toBe(true);
    expect(onPhone.budgetMB).toBe(2048);
    expect(ids(onPhone)).toEqual([
      "stablelm-2-zephyr-1_6b-q4f16_1-MLC-1k",
      "Qwen2.5-0.5B-Instruct-q4f16_1-MLC",
      "gemma-2-2b-it-q4f16_1-MLC",
    ]);
    expect(ids(chooseWebllmModel(desktop(), slice))[0]).toBe("gemma-2-2b-it-q4f16_1-MLC");
  });

  it("keeps to the pool's allow-list and the device's own exclusions, and names allowed ids WebLLM does not know", () => {
    const slice = records(plain, "Qwen2.5-1.5B-Instruct-q4f16_1-MLC", "Llama-3.2-1B-Instruct-q4f16_1-MLC");
    const choice = chooseWebllmModel(desktop(), slice, {
      allow: [plain, "Llama-3.2-1B-Instruct-q4f16_1-MLC", "Made-Up-7B-q4f16_1-MLC"],
      exclude: ["Llama-3.2-1B-Instruct-q4f16_1-MLC"],
    });
    expect(ids(choice)).toEqual([plain]);
    expect(reasonFor(choice, "Qwen2.5-1.5B-Instruct-q4f16_1-MLC")).toBe("not on this pool's list");
    expect(reasonFor(choice, "Llama-3.2-1B-Instruct-q4f16_1-MLC")).toBe("set aside on this device");
    expect(reasonFor(choice, "Made-Up-7B-q4f16_1-MLC")).toMatch(/not a model this version of WebLLM knows/);
    expect(ids(chooseWebllmModel(desktop(), slice, { allow: [] }))).toHaveLength(3);
  });

  it("leaves out embedding models, models whose buffer exceeds the GPU's limit, and everything below WebLLM's minimum limits", () => {
    const slice = records("snowflake-arctic-embed-s-q0f32-MLC-b4", "gemma-2b-it-q4f32_1-MLC-1k", plain);
    const choice = chooseWebllmModel(phone(), slice);
    expect(ids(choice)).toEqual([plain]);
    expect(reasonFor(choice, "snowflake-arctic-embed-s-q0f32-MLC-b4")).toMatch(/embedding model/);
    expect(reasonFor(choice, "gemma-2b-it-q4f32_1-MLC-1k")).toBe("needs a single GPU buffer of 250 MB; this GPU allows 128 MB");

    const ancient = { ...phone(), limits: { maxBufferSize: 128 * MiB, maxStorageBufferBindingSize: 64 * MiB } };
    const none = chooseWebllmModel(ancient, records(plain));
    expect(none.candidates).toEqual([]);
    expect(reasonFor(none, plain)).toMatch(/buffer limits are below what WebLLM needs/);
  });

  it("finds every prebuilt chat model a place on a large GPU, with a size named in its id", () => {
    const chat = prebuiltAppConfig.model_list.filter((record) => record.model_type !== 1);
    const choice = chooseWebllmModel(desktop(), prebuiltAppConfig.model_list, { vramBudgetMB: 64 * 1024 });
    expect(choice.candidates).toHaveLength(chat.length);
    expect(chat.filter((record) => parametersOf(record.model_id) === undefined).map((record) => record.model_id)).toEqual([]);
  });
});

describe("gpuMemoryBudget", () => {
  it("is half the RAM the browser reports, 4 GB where it reports none, and at most 2 GB on phone-class limits", () => {
    expect(gpuMemoryBudget(desktop())).toEqual({ budgetMB: 4096, lowMemory: false });
    expect(gpuMemoryBudget({ ...desktop(), deviceMemoryGb: 2 })).toEqual({ budgetMB: 1024, lowMemory: true });
    const { deviceMemoryGb: _, ...firefox } = desktop();
    expect(gpuMemoryBudget(firefox)).toEqual({ budgetMB: 4096, lowMemory: false });
    expect(gpuMemoryBudget({ ...phone(), deviceMemoryGb: 8 })).toEqual({ budgetMB: 2048, lowMemory: true });
    expect(gpuMemoryBudget(desktop(), 6000).budgetMB).toBe(6000);
  });
});

describe("parametersOf and quantizationOf", () => {
  it.each([
    ["Qwen2.5-0.5B-Instruct-q4f16_1-MLC", 5e8, "q4f16_1"],
    ["Qwen2.5-1.5B-Instruct-q4f32_1-MLC", 1.5e9, "q4f32_1"],
    ["Llama-3.2-3B-Instruct-q4f16_1-MLC", 3e9, "q4f16_1"],
    ["Llama-3.1-8B-Instruct-q4f16_1-MLC-1k", 8e9, "q4f16_1"],
    ["SmolLM2-360M-Instruct-q0f16-MLC", 3.6e8, "q0f16"],
    ["stablelm-2-zephyr-1_6b-q4f16_1-MLC", 1.6e9, "q4f16_1"],
    ["gemma-2-2b-it-q4f32_1-MLC", 2e9, "q4f32_1"],
    ["Llama-3.1-70B-Instruct-q3f16_1-MLC", 7e10, "q3f16_1"],
    ["Phi-3.5-mini-instruct-q4f16_1-MLC", 3.8e9, "q4f16_1"],
    ["phi-2-q4f16_1-MLC", 2.7e9, "q4f16_1"],
  ])("reads %s as %d weights in %s", (id, parameters, quantization) => {
    expect(parametersOf(id)).toBe(parameters);
    expect(quantizationOf(id)).toBe(quantization);
  });

  it("says nothing for an id that names no size, and estimates those from the record's memory", () => {
    expect(parametersOf("Mystery-Instruct-q4f16_1-MLC")).toBeUndefined();
    expect(quantizationOf("Mystery-Instruct-MLC")).toBeUndefined();
    // About half of 1 GiB as 4-bit weights.
    expect(estimateParameters({ model_id: "Mystery-Instruct-q4f16_1-MLC", vram_required_MB: 1024 })).toBe(GiB);
  });
});
