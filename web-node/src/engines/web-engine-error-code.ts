import { WireErrorCode } from "@rung/shared/protocol";

/** Codes the browser engines report, to the edge in `job-error` and to the page for its words and its recovery. */
export const WebEngineErrorCode = {
  deviceLost: "gpu_device_lost",
  outOfMemory: "out_of_memory",
  loadFailed: "model_load_failed",
  /** The downloaded file is not the one the pool's policy names by its SHA-256. */
  hashMismatch: WireErrorCode.modelHashMismatch,
  unsupported: "webgpu_unsupported",
  featureMissing: "gpu_feature_missing",
  contextLengthExceeded: WireErrorCode.contextLengthExceeded,
  requestRejected: "request_rejected",
  interrupted: "generation_interrupted",
  cancelled: WireErrorCode.cancelled,
  engineFailure: WireErrorCode.engineFailure,
} as const;
export type WebEngineErrorCode = (typeof WebEngineErrorCode)[keyof typeof WebEngineErrorCode];
