import {
  EngineError,
  type GenerationOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceEngine,
} from "@rung/shared/node";
import { EngineName, type ModelInfo, type WireError, WireErrorCode } from "@rung/shared/protocol";
import type { LoadProgress } from "../engines/load-progress.ts";
import type { EngineSpec, PageToWorker, WorkerToPage } from "./worker-messages.ts";

interface PendingJob {
  options: GenerationOptions;
  resolve(result: GenerationResult): void;
  reject(error: EngineError): void;
}

export interface WorkerEngineEvents {
  onProgress(progress: LoadProgress): void;
}

/**
 * The page's handle on an engine running in its worker: the same
 * `InferenceEngine` the node session drives on an agent, with every call a
 * message. Errors cross as wire errors and become engine errors again, so a
 * retryable failure in the worker stays retryable at the edge.
 */
export class WorkerEngine implements InferenceEngine {
  readonly slots = 1;
  #models: ModelInfo[] = [];
  #threads = 1;
  #nextId = 0;
  readonly #jobs = new Map<number, PendingJob>();

  private constructor(
    private readonly worker: Worker,
    readonly name: (typeof EngineName)["wllama" | "webllm"],
  ) {}

  /** Starts a worker and loads the engine in it; rejects with the load's engine error (the worker is then gone). */
  static load(createWorker: () => Worker, spec: EngineSpec, events: WorkerEngineEvents): Promise<WorkerEngine> {
    const engine = new WorkerEngine(createWorker(), spec.engine === "wllama" ? EngineName.wllama : EngineName.webllm);
    return new Promise((resolve, reject) => {
      engine.worker.onmessage = (event: MessageEvent<WorkerToPage>) => {
        const message = event.data;
        if (message.type === "progress") events.onProgress(message.progress);
        else if (message.type === "loaded") {
          engine.#models = message.models;
          engine.#threads = message.threads;
          engine.worker.onmessage = (next: MessageEvent<WorkerToPage>) => engine.#receive(next.data);
          resolve(engine);
        } else if (message.type === "load-failed") {
          engine.worker.terminate();
          reject(fromWire(message.error));
        }
      };
      engine.worker.onerror = (event) => {
        event.preventDefault();
        engine.worker.terminate();
        reject(new EngineError("model_load_failed", `the engine could not start: ${event.message || "worker error"}`, true));
      };
      engine.#post({ type: "load", spec });
    });
  }

  get models(): readonly ModelInfo[] {
    return this.#models;
  }

  /** Threads llama.cpp got (1 for WebLLM, whose work is on the GPU). */
  get threads(): number {
    return this.#threads;
  }

  generate(request: GenerationRequest, options: GenerationOptions): Promise<GenerationResult> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (options.signal.aborted) {
        reject(new EngineError(WireErrorCode.cancelled, "generation was aborted", false));
        return;
      }
      this.#jobs.set(id, { options, resolve, reject });
      options.signal.addEventListener("abort", () => this.#post({ type: "abort", id }), { once: true });
      this.#post({ type: "generate", id, request });
    });
  }

  /** Ends the worker, and with it every byte the engine held; jobs in hand fail as retryable. */
  async dispose(): Promise<void> {
    const disposed = new Promise<void>((resolve) => {
      this.worker.onmessage = (event: MessageEvent<WorkerToPage>) => event.data.type === "disposed" && resolve();
      setTimeout(resolve, 2_000);
    });
    this.#post({ type: "dispose" });
    await disposed;
    this.worker.terminate();
    this.#failAll({ code: "node_stopped", message: "the donor stopped this tab", retryable: true });
  }

  #receive(message: WorkerToPage): void {
    if (message.type !== "piece" && message.type !== "result" && message.type !== "failed") return;
    const job = this.#jobs.get(message.id);
    if (!job) return;
    if (message.type === "piece") job.options.onPiece(message.piece);
    else {
      this.#jobs.delete(message.id);
      if (message.type === "result") job.resolve(message.result);
      else job.reject(fromWire(message.error));
    }
  }

  #failAll(error: WireError): void {
    for (const job of this.#jobs.values()) job.reject(fromWire(error));
    this.#jobs.clear();
  }

  #post(message: PageToWorker): void {
    this.worker.postMessage(message);
  }
}

function fromWire(error: WireError): EngineError {
  return new EngineError(error.code, error.message, error.retryable);
}
