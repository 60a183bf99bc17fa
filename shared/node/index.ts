export * from "./chunk-batcher.ts";
export * from "./echo-engine.ts";
export * from "./engine-error.ts";
export * from "./forwarding-engine.ts";
export * from "./inference-engine.ts";
export * from "./node-session.ts";
export * from "./speed-meter.ts";
export * from "./tool-call-text.ts";
