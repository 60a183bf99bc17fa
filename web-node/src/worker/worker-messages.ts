import type { GeneratedPiece, GenerationRequest, GenerationResult } from "@rung/shared/node";
import type { BrowserModel, ModelInfo, WireError } from "@rung/shared/protocol";
import type { LoadProgress } from "../engines/load-progress.ts";

/**
 * Messages between the page and its engine worker. Both ends are this one
 * program, built together, so these are types rather than schemas; the edge's
 * frames are parsed on the page before anything reaches the worker.
 */

export type EngineSpec =
  | { engine: "wllama"; model: BrowserModel; wasmUrl: string; threads: number }
  | { engine: "webllm"; modelId: string };

/** What a GPU offers, as the worker saw it; null where there is no usable WebGPU adapter. */
export interface GpuReport {
  description: string;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface WebllmCandidate {
  modelId: string;
  vramMB: number;
  parameters: number;
}

export interface WebllmExclusion {
  modelId: string;
  reason: string;
}

export type PageToWorker =
  | { type: "survey"; allow: string[]; deviceMemoryGb?: number }
  | { type: "load"; spec: EngineSpec }
  | { type: "generate"; id: number; request: GenerationRequest }
  | { type: "abort"; id: number }
  | { type: "dispose" };

export type WorkerToPage =
  | { type: "survey"; gpu: GpuReport | null; candidates: WebllmCandidate[]; excluded: WebllmExclusion[]; gpuError?: string }
  | { type: "progress"; progress: LoadProgress }
  | { type: "loaded"; models: ModelInfo[]; threads: number }
  | { type: "load-failed"; error: WireError }
  | { type: "piece"; id: number; piece: GeneratedPiece }
  | { type: "result"; id: number; result: GenerationResult }
  | { type: "failed"; id: number; error: WireError }
  | { type: "disposed" };
