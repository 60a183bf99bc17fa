export * from "./requests.ts";
export * from "./errors.ts";
export * from "./responses.ts";
