import { availableParallelism, freemem, totalmem } from "node:os";
import { GpuBackend, type Hardware } from "@rung/shared/protocol";
import type { Llama } from "node-llama-cpp";

/**
 * What this machine offers, as node-llama-cpp sees it once its backend is
 * chosen: the GPU backend and devices with their VRAM, or the CPU and RAM.
 */
export async function detectHardware(llama: Llama): Promise<Hardware> {
  const base = { ramTotalBytes: totalmem(), cpuCores: availableParallelism() };
  if (llama.gpu === false) return { backend: GpuBackend.cpu, devices: [], ...base };
  const [devices, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
  return {
    backend: llama.gpu,
    devices,
    vramTotalBytes: vram.total,
    vramFreeBytes: vram.free,
    ramTotalBytes: base.ramTotalBytes,
    cpuCores: base.cpuCores,
  };
}

/** Free memory of the kind the models load into: VRAM on a GPU, RAM on the CPU. */
export async function freeMemoryBytes(llama: Llama): Promise<number> {
  return llama.gpu === false ? freemem() : (await llama.getVramState()).free;
}
