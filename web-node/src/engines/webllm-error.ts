import { EngineError } from "@rung/shared/node";
import { WebEngineErrorCode } from "./web-engine-error-code.ts";

const C = WebEngineErrorCode;

/**
 * WebLLM sets `name` on each of its error classes but exports none of them
 * (only `IntegrityError`), so `instanceof` is impossible: the names are the
 * structured part. WebGPU's own failures (`GPUOutOfMemoryError`,
 * `GPUDeviceLostInfo`) are told by their class tag.
 */
const BY_NAME: Readonly<Record<string, WebEngineErrorCode>> = {
  DeviceLostError: C.deviceLost,
  GPUDeviceLostInfo: C.deviceLost,
  // WebLLM unloads every model when the device is lost outside `reload()`, so a
  // later request finds none: the device is gone, not a bug in the request.
  ModelNotLoadedError: C.deviceLost,
  EngineNotLoadedError: C.deviceLost,
  GPUOutOfMemoryError: C.outOfMemory,
  WebGPUNotAvailableError: C.unsupported,
  WebGPUNotFoundError: C.unsupported,
  ShaderF16SupportError: C.featureMissing,
  FeatureSupportError: C.featureMissing,
  NetworkError: C.loadFailed,
  IntegrityError: C.loadFailed,
  ArtifactManifestError: C.loadFailed,
  ModelNotFoundError: C.loadFailed,
  MissingModelError: C.loadFailed, // WebLLM's MissingModelWasmError names itself so
  UnsupportedTokenizerFilesError: C.loadFailed,
  QuotaExceededError: C.loadFailed,
  ContextWindowSizeExceededError: C.contextLengthExceeded,
  MessageOrderError: C.requestRejected,
  SystemMessageOrderError: C.requestRejected,
  UnsupportedRoleError: C.requestRejected,
  ContentTypeError: C.requestRejected,
  ConfigValueError: C.requestRejected,
  MinValueError: C.requestRejected,
  NonNegativeError: C.requestRejected,
  DependencyError: C.requestRejected,
  AbortError: C.cancelled,
};

/**
 * Messages, only where nothing structured exists: tvmjs throws plain `Error`s
 * for adapter limits and failed downloads, a `fetch` failure is a bare
 * `TypeError` whose wording differs per browser, and an allocation failure is a
 * `RangeError` (a name WebLLM also gives its config-range errors). Order
 * matters: DeviceLostError's message mentions OOM, but its name wins above.
 */
const BY_MESSAGE: readonly (readonly [RegExp, WebEngineErrorCode])[] = [
  [/device (was |is )?lost/i, C.deviceLost],
  [/out of memory|\bOOM\b|allocation failed|failed to allocate|could not allocate/i, C.outOfMemory],
  [/WebGPU is not supported|no (WebGPU |GPU )?adapter|Cannot initialize runtime because of requested/i, C.unsupported],
  [/shader-f16/i, C.featureMissing],
  [
    /failed to fetch|NetworkError|load failed|cannot fetch|unable to fetch|network response was not ok|failed to store|on 'Cache'/i,
    C.loadFailed,
  ],
  [/Engine\.unload\(\) is called/i, C.cancelled],
];

const WORDS: Record<WebEngineErrorCode, string> = {
  [C.deviceLost]: "the graphics card stopped responding (its device was lost), often because it ran out of memory",
  [C.outOfMemory]: "the graphics card ran out of memory for this model",
  [C.loadFailed]: "the model could not be downloaded or stored in this browser",
  [C.hashMismatch]: "the model's file is not the one this pool names by its SHA-256",
  [C.unsupported]: "this browser or graphics card cannot run WebGPU models",
  [C.featureMissing]: "this model needs a graphics feature (shader-f16) this card lacks",
  [C.contextLengthExceeded]: "the request is longer than the context this tab allocated",
  [C.requestRejected]: "WebLLM cannot take this request as it is",
  [C.interrupted]: "generation was interrupted",
  [C.cancelled]: "generation was aborted",
  [C.engineFailure]: "the model failed in this tab",
};

/** Any WebLLM or WebGPU failure as an EngineError: a stable code, plain words, and whether another node could serve the job. */
export function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const code = classify(error);
  const detail = detailOf(error);
  const message = code === C.cancelled ? WORDS[code] : `${WORDS[code]}${detail ? ` (${detail})` : ""}`;
  // Only a cancelled job is final: every other failure is this tab's, and another node may well answer.
  return new EngineError(code, message, code !== C.cancelled, { cause: error });
}

function classify(error: unknown): WebEngineErrorCode {
  // WebLLM sometimes wraps (`ArtifactManifestError` with a cause): the innermost known name is the most specific.
  for (const link of causeChain(error).reverse()) {
    const name = nameOf(link);
    // Own keys only: a `name` such as "toString" must not find Object.prototype's.
    if (Object.hasOwn(BY_NAME, name)) return BY_NAME[name]!;
    // The runtime's RangeError is a failed allocation; WebLLM's own (same name) is a sampling value out of range.
    if (name === "RangeError" && /^Make sure/.test(detailOf(link))) return C.requestRejected;
  }
  const text = causeChain(error).map(detailOf).join("\n");
  return BY_MESSAGE.find(([pattern]) => pattern.test(text))?.[1] ?? C.engineFailure;
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let link = error; link !== undefined && link !== null && chain.length < 4; link = (link as { cause?: unknown }).cause) {
    chain.push(link);
    if (typeof link !== "object") break;
  }
  return chain;
}

/** `name` where it is set, else the WebGPU class tag (`[object GPUOutOfMemoryError]`). */
function nameOf(value: unknown): string {
  if (typeof value !== "object" || value === null) return "";
  const name = (value as { name?: unknown }).name;
  if (typeof name === "string" && name !== "Error") return name;
  return Object.prototype.toString.call(value).slice(8, -1);
}

function detailOf(value: unknown): string {
  if (typeof value === "string") return value;
  const message = typeof value === "object" && value !== null ? (value as { message?: unknown }).message : undefined;
  return typeof message === "string" ? message.slice(0, 500) : "";
}
