import { EngineError } from "@rung/shared/node";
import { WireErrorCode } from "@rung/shared/protocol";
import { WllamaAbortError, WllamaError, WllamaRuntimeError } from "@wllama/wllama/esm/index.js";
import { WebEngineErrorCode } from "./web-engine-error-code.ts";

/**
 * wllama's errors as engine errors. wllama classifies its own failures
 * (`WllamaError.type`); the WebAssembly runtime's are told apart by class,
 * and an out-of-memory only by its message, which is all the runtime gives.
 */
export function toWllamaError(error: unknown, during: "load" | "generate"): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof WllamaAbortError) return new EngineError(WireErrorCode.cancelled, "generation was aborted", false);
  const message = error instanceof Error ? error.message : String(error);
  if (isOutOfMemory(error, message)) {
    return new EngineError(WebEngineErrorCode.outOfMemory, `this device ran out of memory for the model (${message})`, true, {
      cause: error,
    });
  }
  if (error instanceof WllamaError && error.type === "kv_cache_full") {
    return new EngineError(WebEngineErrorCode.contextLengthExceeded, "the request does not fit in the context this tab allocated", true, {
      cause: error,
    });
  }
  if (during === "load" || (error instanceof WllamaError && (error.type === "download_error" || error.type === "load_error"))) {
    return new EngineError(WebEngineErrorCode.loadFailed, `the model could not be loaded: ${message}`, true, { cause: error });
  }
  // Anything else failed in this tab only; another node may well answer.
  return new EngineError(WireErrorCode.engineFailure, message, true, { cause: error });
}

function isOutOfMemory(error: unknown, message: string): boolean {
  if (error instanceof RangeError) return /alloc|memory/i.test(message);
  const runtime = error instanceof WllamaRuntimeError || error instanceof WebAssembly.RuntimeError;
  return (runtime || error instanceof WllamaError) && /\bOOM\b|out of memory|failed to allocate|Cannot enlarge memory/i.test(message);
}
