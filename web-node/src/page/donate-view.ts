import type { DonorPhase } from "./donor-controller.ts";
import { formatBytes, formatDuration, formatRate, timeLeftMs } from "./format.ts";
import type { ServingFigures } from "./metered-engine.ts";
import type { DeviceFacts, ModelChoice, ModelPlan, WebgpuSurvey } from "./model-plan.ts";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** The page's elements, found once; every render is a plain DOM update. */
export const ui = {
  deviceFacts: element<HTMLDListElement>("device-facts"),
  planNotes: element<HTMLUListElement>("plan-notes"),
  modelSelect: element<HTMLSelectElement>("model-select"),
  modelSummary: element("model-summary"),
  pauseHidden: element<HTMLInputElement>("pause-hidden"),
  agree: element<HTMLInputElement>("agree"),
  start: element<HTMLButtonElement>("start"),
  change: element<HTMLButtonElement>("change"),
  serving: element("serving"),
  status: element("status"),
  progress: element("progress"),
  progressBar: element<HTMLProgressElement>("progress-bar"),
  progressText: element("progress-text"),
  jobsServed: element("jobs-served"),
  tokens: element("tokens"),
  rate: element("rate"),
  currentJob: element("current-job"),
  pause: element<HTMLButtonElement>("pause"),
  resume: element<HTMLButtonElement>("resume"),
  stop: element<HTMLButtonElement>("stop"),
  notices: element<HTMLUListElement>("notice-list"),
};

export function renderDevice(device: DeviceFacts, survey: WebgpuSurvey): void {
  const facts: [string, string][] = [
    [
      "GPU",
      survey.gpu
        ? `${survey.gpu.description} (WebGPU${survey.gpu.features.includes("shader-f16") ? ", shader-f16" : ""}; largest buffer ${formatBytes(survey.gpu.maxBufferSize)})`
        : "none usable: CPU only",
    ],
    ["CPU cores", String(device.cores)],
    ["Memory", device.memoryGb === undefined ? "not reported by this browser" : `about ${device.memoryGb} GB`],
    [
      "Threads for the CPU engine",
      device.crossOriginIsolated ? "available (cross-origin isolated)" : "one only (this page is not cross-origin isolated)",
    ],
  ];
  ui.deviceFacts.replaceChildren(...facts.flatMap(([term, value]) => [textElement("dt", term), textElement("dd", value)]));
}

export function renderPlan(plan: ModelPlan): void {
  ui.planNotes.replaceChildren(...plan.notes.map((note) => textElement("li", note)));
  ui.modelSelect.replaceChildren(
    ...plan.choices.map((choice, index) => {
      const option = textElement(
        "option",
        `${choice.id} · ${choice.engine === "webllm" ? "GPU (WebLLM)" : "CPU (wllama)"}${choice.sizeBytes ? ` · ${formatBytes(choice.sizeBytes)}` : ""}`,
      );
      (option as HTMLOptionElement).value = String(index);
      return option;
    }),
  );
  ui.modelSelect.disabled = plan.choices.length === 0;
}

export function renderChoice(choice: ModelChoice | undefined): void {
  ui.modelSummary.textContent = !choice
    ? "No model can run in this tab."
    : choice.engine === "webllm"
      ? `Runs on your GPU with WebLLM; needs about ${formatBytes(choice.sizeBytes)} of GPU memory.`
      : `Runs on your CPU with llama.cpp (wllama), ${choice.threads} thread${choice.threads === 1 ? "" : "s"}; downloads ${choice.sizeBytes ? formatBytes(choice.sizeBytes) : "a file of unknown size"} once.`;
}

export function renderPhase(phase: DonorPhase): void {
  ui.serving.hidden = phase.phase === "idle";
  ui.progress.hidden = phase.phase !== "loading";
  ui.pause.hidden = phase.phase !== "serving";
  ui.resume.hidden = phase.phase !== "paused";
  ui.stop.disabled = phase.phase === "stopped" || phase.phase === "failed";
  ui.start.hidden = phase.phase !== "idle" && phase.phase !== "stopped" && phase.phase !== "failed";
  ui.status.dataset.phase = phase.phase;
  ui.status.textContent = statusText(phase);
  if (phase.phase === "loading") renderProgress(phase);
  if (phase.phase === "serving" && phase.link.state === "joined") ui.status.dataset.readyMs = String(Math.round(performance.now()));
}

function statusText(phase: DonorPhase): string {
  switch (phase.phase) {
    case "idle":
      return "";
    case "loading":
      return `Loading ${phase.choice.id}…`;
    case "serving":
      if (phase.link.state === "joined") return `Serving ${phase.choice.id} to the pool.`;
      if (phase.link.state === "connecting" && phase.link.attempt > 0)
        return `Connection to the pool lost; reconnecting (attempt ${phase.link.attempt})… Requests go to other nodes meanwhile.`;
      return `Model ready; joining the pool…`;
    case "paused":
      return phase.why === "hidden" ? "Paused while this tab is hidden." : "Paused: taking no jobs. The model stays loaded.";
    case "stopped":
      return "Stopped. Thank you for donating! The model stays cached for next time.";
    case "failed":
      return `Stopped: ${phase.message}`;
  }
}

function renderProgress(phase: Extract<DonorPhase, { phase: "loading" }>): void {
  const progress = phase.progress;
  if (!progress || progress.totalBytes === 0) {
    ui.progressBar.removeAttribute("value");
    ui.progressText.textContent = "Starting…";
    return;
  }
  ui.progressBar.value = progress.loadedBytes / progress.totalBytes;
  const left = timeLeftMs(progress.loadedBytes, progress.totalBytes, progress.elapsedMs);
  ui.progressText.textContent =
    progress.loadedBytes >= progress.totalBytes
      ? `${formatBytes(progress.totalBytes)} loaded; measuring speed…`
      : `${formatBytes(progress.loadedBytes)} of ${formatBytes(progress.totalBytes)}${left === undefined ? "" : ` · about ${formatDuration(left)} left`}`;
}

export function renderFigures(figures: ServingFigures): void {
  ui.jobsServed.textContent = String(figures.jobsServed);
  ui.tokens.textContent = String(figures.tokensGenerated);
  ui.rate.textContent = formatRate(figures.tokensPerSecond);
  ui.currentJob.textContent = figures.current
    ? `${figures.current.kind} on ${figures.current.model}, ${figures.current.tokens} tokens so far`
    : "none";
}

export function addNotice(text: string): void {
  const item = textElement("li", `${new Date().toLocaleTimeString()}: ${text}`);
  ui.notices.prepend(item);
  while (ui.notices.children.length > 5) ui.notices.lastElementChild?.remove();
}

function textElement(tag: string, text: string): HTMLElement {
  const created = document.createElement(tag);
  created.textContent = text;
  return created;
}
