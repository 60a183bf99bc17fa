import type { ModelInfo } from "@rung/shared/protocol";

/** What an EchoEngine announces in link tests; the numbers only need to satisfy the schema. */
export const ECHO_MODEL: ModelInfo = {
  id: "echo-1",
  parameters: 1_000,
  quantization: "F32",
  contextLength: 512,
  tokensPerSecond: 100,
  slots: 1,
};
