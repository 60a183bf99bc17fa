import { getLlama, type Llama, LlamaLogLevel, NoBinaryFoundError } from "node-llama-cpp";
import { formatBytes } from "../../engines/format-bytes.ts";
import type { GpuOption } from "../../engines/llama-cpp-engine.ts";
import { type DoctorCheck, fail, pass } from "./doctor-check.ts";

/** What node-llama-cpp sees of the GPU, for the report and its JSON. */
export interface GpuFacts {
  backend: string | false;
  devices: string[];
  vram: { total: number; used: number; free: number };
}

/**
 * Load node-llama-cpp's backend the way `start` would, without a model.
 * `build: "never"`: doctor must stay fast and never start compiling llama.cpp.
 */
export async function checkGpu(gpu: GpuOption): Promise<{ check: DoctorCheck; llama?: Llama; facts?: GpuFacts }> {
  let llama: Llama;
  try {
    llama = await getLlama({ gpu, build: "never", logLevel: LlamaLogLevel.error });
  } catch (error) {
    // NoBinaryFoundError's message is just its name; say what it means.
    const reason =
      error instanceof NoBinaryFoundError
        ? "no prebuilt binary for it works on this system"
        : error instanceof Error
          ? error.message.split("\n")[0]
          : String(error);
    return {
      check: fail(
        "gpu",
        `no node-llama-cpp backend for gpu ${gpu}: ${reason}`,
        gpu === "auto" || gpu === false
          ? "reinstall rung-agent so npm fetches node-llama-cpp's prebuilt binaries for this platform"
          : `install the ${gpu} driver/toolkit, or use --gpu auto (or false for CPU only)`,
      ),
    };
  }
  const vram = await llama.getVramState();
  const facts: GpuFacts = {
    backend: llama.gpu,
    devices: await llama.getGpuDeviceNames(),
    vram: { total: vram.total, used: vram.used, free: vram.free },
  };
  if (facts.backend === false) {
    const why = gpu === false ? "gpu false" : "no CUDA, Vulkan or Metal device found";
    return { check: pass("gpu", `CPU only (${why}); models run on the CPU`), llama, facts };
  }
  const devices = facts.devices.length > 0 ? facts.devices.join(", ") : "unnamed device";
  const memory = `${formatBytes(vram.free)} free of ${formatBytes(vram.total)} VRAM (${formatBytes(vram.used)} used)`;
  return { check: pass("gpu", `${facts.backend}: ${devices}; ${memory}`), llama, facts };
}
