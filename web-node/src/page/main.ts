/// <reference types="vite/client" />
// First: configures zod before any schema module is evaluated.
import "./zod-without-eval.ts";
import { type DonateConfig, donateConfigSchema } from "@rung/shared/protocol";
import wasmUrl from "@wllama/wllama/esm/wasm/wllama.wasm?url";
import type { WorkerToPage } from "../worker/worker-messages.ts";
import { closedNotice } from "./closed-notice.ts";
import { donateConfigUrl } from "./donate-config-url.ts";
import { addNotice, renderChoice, renderDevice, renderFigures, renderPhase, renderPlan, ui } from "./donate-view.ts";
import { DonorController } from "./donor-controller.ts";
import { type DeviceFacts, type ModelPlan, planModels, type WebgpuSurvey } from "./model-plan.ts";

const createWorker = () => new Worker(new URL("../worker/engine-worker.ts", import.meta.url), { type: "module", name: "rung-engine" });

async function main(): Promise<void> {
  const config = await readConfig();
  if (!config.accepting) {
    addNotice(closedNotice(config));
    return;
  }
  // Chromium's Device Memory API; not in TypeScript's DOM types, and absent in other browsers.
  const { deviceMemory } = navigator as Navigator & { deviceMemory?: number };
  const device: DeviceFacts = {
    cores: navigator.hardwareConcurrency || 1,
    ...(typeof deviceMemory === "number" && { memoryGb: deviceMemory }),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    ...requestedThreads(),
  };
  const survey = await surveyWebgpu(config, device);
  renderDevice(device, survey);
  const plan = planModels(config, survey, device, await downloadSizes(config));
  renderPlan(plan);
  const selected = () => plan.choices[Number(ui.modelSelect.value)];
  renderChoice(selected());

  const controller = new DonorController({
    connectUrl: new URL(config.connectPath, location.href.replace(/^http/, "ws")).href,
    wasmUrl: new URL(wasmUrl, location.href).href,
    nodeName: nodeName(),
    createWorker,
    onPhase: renderPhase,
    onFigures: renderFigures,
    onNotice: addNotice,
  });
  wireControls(controller, plan, selected);
}

function wireControls(controller: DonorController, plan: ModelPlan, selected: () => ModelPlan["choices"][number] | undefined): void {
  const startable = () => ui.agree.checked && selected() !== undefined;
  ui.agree.addEventListener("change", () => (ui.start.disabled = !startable()));
  ui.modelSelect.addEventListener("change", () => {
    renderChoice(selected());
    const phase = controller.phase;
    ui.change.hidden = !("choice" in phase) || phase.choice === selected();
  });
  ui.start.addEventListener("click", () => {
    const choice = selected();
    if (choice && startable()) void controller.start(plan.choices, choice);
  });
  ui.change.addEventListener("click", () => {
    const choice = selected();
    ui.change.hidden = true;
    if (choice) void controller.start(plan.choices, choice);
  });
  ui.pause.addEventListener("click", () => void controller.pause("donor"));
  ui.resume.addEventListener("click", () => controller.resume());
  ui.stop.addEventListener("click", () => void controller.stop());
  document.addEventListener("visibilitychange", () => {
    if (!ui.pauseHidden.checked) return;
    const phase = controller.phase;
    if (document.hidden) void controller.pause("hidden");
    else if (phase.phase === "paused" && phase.why === "hidden") controller.resume();
  });
  // Closing the tab cannot wait for a job to finish; the edge sees the socket drop and retries it elsewhere.
}

/** The settings of the pool this page's address names (`?pool=`), or of `main`. */
async function readConfig(): Promise<DonateConfig> {
  const response = await fetch(donateConfigUrl(location.search), { headers: { accept: "application/json" } });
  const parsed = donateConfigSchema.safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !parsed.success) throw new Error(`the pool's donate settings could not be read (HTTP ${response.status})`);
  return parsed.data;
}

/** Asks a short-lived worker what WebGPU offers, where the engines will run; gives up after 10 s (a hung driver). */
function surveyWebgpu(config: DonateConfig, device: DeviceFacts): Promise<WebgpuSurvey> {
  const worker = createWorker();
  const none = (gpuError: string): WebgpuSurvey => ({ gpu: null, candidates: [], excluded: [], gpuError });
  return new Promise<WebgpuSurvey>((resolve) => {
    const timer = setTimeout(() => resolve(none("the GPU did not answer within 10 s")), 10_000);
    worker.onmessage = (event: MessageEvent<WorkerToPage>) => {
      if (event.data.type !== "survey") return;
      clearTimeout(timer);
      const { gpu, candidates, excluded, gpuError } = event.data;
      resolve({ gpu, candidates, excluded, ...(gpuError && { gpuError }) });
    };
    worker.onerror = () => resolve(none("the GPU check failed"));
    worker.postMessage({
      type: "survey",
      allow: config.webllmModels,
      ...(device.memoryGb !== undefined && { deviceMemoryGb: device.memoryGb }),
    });
  }).finally(() => worker.terminate());
}

/** Sizes of GGUF files the policy lists without one, from the server, so the donor knows the download before consenting. */
async function downloadSizes(config: DonateConfig): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  await Promise.all(
    config.ggufModels
      .filter((model) => model.sizeBytes === undefined)
      .map(async (model) => {
        const response = await fetch(model.url, { method: "HEAD" }).catch(() => undefined);
        const length = Number(response?.headers.get("content-length"));
        if (response?.ok && length > 0) sizes.set(model.id, length);
      }),
  );
  return sizes;
}

/** `?threads=N`: donors who want to lend more (or fewer) CPU threads than half their cores, and benchmarks. */
function requestedThreads(): { requestedThreads?: number } {
  const threads = Number(new URLSearchParams(location.search).get("threads"));
  return Number.isInteger(threads) && threads > 0 ? { requestedThreads: threads } : {};
}

/** A stable name per tab session, so the operator's status page can tell tabs apart. */
function nodeName(): string {
  const stored = sessionStorage.getItem("rung-node-name");
  if (stored) return stored;
  const name = `tab-${crypto.randomUUID().slice(0, 8)}`;
  sessionStorage.setItem("rung-node-name", name);
  return name;
}

main().catch((error: unknown) => addNotice(error instanceof Error ? error.message : String(error)));
