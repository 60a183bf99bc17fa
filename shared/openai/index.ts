export * from "./errors.ts";
export * from "./plain-chat-request.ts";
export * from "./requests.ts";
export * from "./responses.ts";
