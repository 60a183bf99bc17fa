export * from "./messages.ts";
export * from "./wire-error.ts";
export * from "./parse-frame.ts";
export * from "./chunk-sequencer.ts";
export * from "./tunnel.ts";
export * from "./tunnel-signature.ts";
export * from "./donate-config.ts";
