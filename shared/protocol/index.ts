export * from "./chunk-sequencer.ts";
export * from "./chunk-tokens.ts";
export * from "./donate-config.ts";
export * from "./messages.ts";
export * from "./parse-frame.ts";
export * from "./tunnel.ts";
export * from "./tunnel-signature.ts";
export * from "./wire-error.ts";
