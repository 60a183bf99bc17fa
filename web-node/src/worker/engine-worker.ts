/// <reference lib="webworker" />
import type { InferenceEngine } from "@rung/shared/node";
import { toWireError } from "@rung/shared/node";
import type { LoadProgress } from "../engines/load-progress.ts";
import { measureSpeed } from "../engines/measure-speed.ts";
import type { EngineSpec, PageToWorker, WorkerToPage } from "./worker-messages.ts";

/**
 * The engine's home: a dedicated worker, so decoding never blocks the page.
 * One engine per worker; the page terminates the worker to change model,
 * which is the only way to be sure its memory (wasm heap, GPU buffers) is gone.
 */
declare const self: DedicatedWorkerGlobalScope;

let engine: InferenceEngine | undefined;
const jobs = new Map<number, AbortController>();

function post(message: WorkerToPage): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<PageToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "survey":
      void import("../engines/survey-webgpu.ts").then(({ surveyWebgpu }) => surveyWebgpu(message.allow, message.deviceMemoryGb)).then(post);
      return;
    case "load":
      void load(message.spec);
      return;
    case "generate": {
      const controller = new AbortController();
      jobs.set(message.id, controller);
      const { id, request } = message;
      if (!engine) {
        post({ type: "failed", id, error: { code: "engine_not_loaded", message: "no model is loaded in this tab", retryable: true } });
        return;
      }
      engine
        .generate(request, { signal: controller.signal, onPiece: (piece) => post({ type: "piece", id, piece }) })
        .then((result) => post({ type: "result", id, result }))
        .catch((error: unknown) => post({ type: "failed", id, error: toWireError(error) }))
        .finally(() => jobs.delete(id));
      return;
    }
    case "abort":
      jobs.get(message.id)?.abort();
      return;
    case "dispose":
      for (const controller of jobs.values()) controller.abort();
      void (engine?.dispose() ?? Promise.resolve()).catch(() => undefined).then(() => post({ type: "disposed" }));
      engine = undefined;
      return;
  }
};

async function load(spec: EngineSpec): Promise<void> {
  const onProgress = (progress: LoadProgress) => post({ type: "progress", progress });
  try {
    let loaded: InferenceEngine;
    let threads = 1;
    if (spec.engine === "wllama") {
      const { WllamaEngine } = await import("../engines/wllama-engine.ts");
      const wllama = await WllamaEngine.load({ ...spec, onProgress });
      threads = wllama.threads;
      loaded = wllama;
    } else {
      const { loadWebllm } = await import("../engines/load-webllm.ts");
      loaded = await loadWebllm(spec.modelId, onProgress);
    }
    // Announced until real jobs measure it; the node session then reports those speeds.
    const tokensPerSecond = await measureSpeed(loaded);
    engine = loaded;
    post({ type: "loaded", models: loaded.models.map((model) => ({ ...model, tokensPerSecond })), threads });
  } catch (error) {
    post({ type: "load-failed", error: toWireError(error) });
  }
}
