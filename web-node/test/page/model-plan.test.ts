import { type BrowserModel, donateConfig } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { fallbackAfter, planModels, type WebgpuSurvey } from "../../src/page/model-plan.ts";

const MB = 1024 ** 2;
const gguf = (id: string, sizeBytes?: number): BrowserModel => ({
  id,
  url: `/models/${id}.gguf`,
  contextLength: 2048,
  ...(sizeBytes && { sizeBytes }),
});
const noGpu: WebgpuSurvey = { gpu: null, candidates: [], excluded: [], gpuError: "navigator.gpu is missing" };
const gpu: WebgpuSurvey = {
  gpu: { description: "test adapter", features: ["shader-f16"], maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 },
  candidates: [
    { modelId: "Qwen2.5-1.5B-Instruct-q4f16_1-MLC", vramMB: 1630, parameters: 1.5e9 },
    { modelId: "Qwen2.5-0.5B-Instruct-q4f16_1-MLC", vramMB: 945, parameters: 0.5e9 },
  ],
  excluded: [],
};
const config = donateConfig({
  accepting: true,
  ggufModels: [gguf("small", 40 * MB), gguf("big", 900 * MB), gguf("unsized")],
  webllmModels: [],
});

describe("planModels", () => {
  it("proposes GPU models first, then GGUF on the CPU largest first", () => {
    const plan = planModels(config, gpu, { cores: 8, memoryGb: 8, crossOriginIsolated: true }, new Map([["unsized", 300 * MB]]));
    expect(plan.choices.map((c) => `${c.engine}:${c.id}`)).toEqual([
      "webllm:Qwen2.5-1.5B-Instruct-q4f16_1-MLC",
      "webllm:Qwen2.5-0.5B-Instruct-q4f16_1-MLC",
      "wllama:big",
      "wllama:unsized",
      "wllama:small",
    ]);
  });

  it("says why there is no GPU and threads only where the page is cross-origin isolated", () => {
    const isolated = planModels(config, noGpu, { cores: 8, crossOriginIsolated: true }, new Map());
    expect(isolated.notes[0]).toContain("navigator.gpu is missing");
    expect(isolated.choices.every((c) => c.engine === "wllama" && c.threads === 4)).toBe(true);
    const plain = planModels(config, noGpu, { cores: 8, crossOriginIsolated: false, requestedThreads: 4 }, new Map());
    expect(plain.choices.every((c) => c.engine === "wllama" && c.threads === 1)).toBe(true);
    const asked = planModels(config, noGpu, { cores: 8, crossOriginIsolated: true, requestedThreads: 16 }, new Map());
    expect(asked.choices.every((c) => c.engine === "wllama" && c.threads === 8)).toBe(true);
  });

  it("leaves out GGUF models bigger than half the device's memory, and says so", () => {
    const plan = planModels(config, noGpu, { cores: 2, memoryGb: 1, crossOriginIsolated: true }, new Map());
    expect(plan.choices.map((c) => c.id)).toEqual(["small", "unsized"]);
    expect(plan.notes.some((note) => note.startsWith("big needs about 1 GB"))).toBe(true);
  });

  it("tells the donor when the pool offers nothing for a CPU", () => {
    const plan = planModels(
      donateConfig({ accepting: true, ggufModels: [], webllmModels: [] }),
      noGpu,
      { cores: 4, crossOriginIsolated: true },
      new Map(),
    );
    expect(plan.choices).toEqual([]);
    expect(plan.notes).toContain("This pool lists no models for browsers without WebGPU.");
  });
});

describe("falling back", () => {
  const plan = planModels(config, gpu, { cores: 4, memoryGb: 8, crossOriginIsolated: true }, new Map());
  const [gpuLarge, gpuSmall, cpuBig] = plan.choices;

  it("goes to a smaller model after memory runs out, and to the CPU when the GPU cannot work", () => {
    expect(fallbackAfter(plan.choices, gpuLarge!, "smaller-model")).toBe(gpuSmall);
    expect(fallbackAfter(plan.choices, gpuLarge!, "cpu-engine")).toBe(cpuBig);
    expect(fallbackAfter(plan.choices, plan.choices.at(-1)!, "smaller-model")).toBeUndefined();
  });
});
