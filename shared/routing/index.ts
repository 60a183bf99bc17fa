export * from "./plan-ladder.ts";
export * from "./estimate-tokens.ts";
