import type { FinishReasonValue, RungTrace } from "@rung/shared/openai";
import type { Job, JobInput, Sampling, ToolCall, Usage } from "@rung/shared/protocol";
import type { Caller } from "../keys/caller.ts";

/**
 * The request the Worker hands its pool's Durable Object, already validated
 * and translated from OpenAI's shape, so the fabric never sees HTTP details.
 * Only the Worker builds one, so the object takes it as it comes (a type, not a schema).
 */
export interface FabricJob {
  requestId: string;
  model: string;
  input: JobInput;
  sampling: Sampling;
  promptTokens: number;
  /**
   * Streams commit at the first token: after that the client has bytes and the
   * answer cannot move to another node. Whole answers commit only when done, so
   * a node that fails halfway is replaced without the client noticing.
   */
  stream: boolean;
  /** Which endpoint's shapes the answer is written in, and whether a stream ends with a usage chunk. */
  reply: { dialect: "chat" | "completion"; includeUsage: boolean };
  /** Capabilities the answer needs; only models whose nodes announced them are tried. */
  responseFormat?: Job["responseFormat"];
  tools?: Job["tools"];
  toolChoice?: Job["toolChoice"];
  /** Whose request it is: its tiers and models bound where it may run, its limits and usage are counted here. */
  caller: Caller;
  /** The client's `rung` field: its own confidence bar, highest rung, no climbing, or its tokens' signals in the trace. */
  override?: { minConfidence?: number; maxRung?: string; escalate?: boolean; traceTokens?: boolean };
}

/**
 * What a request's run hands its answer writer once the answer committed: text
 * as it comes, then one end (finish reason, usage, trace) or one failure. They
 * never cross a boundary: the Durable Object turns them into the client's bytes.
 */
export type JobEvent =
  | { type: "delta"; text: string }
  | { type: "end"; finishReason: FinishReasonValue; usage: Usage; trace: RungTrace; toolCalls?: ToolCall[] | undefined }
  /** The answer broke after the client had part of it: the stream ends with an error event. */
  | { type: "fail"; code: string; message: string };

/** Headers of a committed answer, which the Durable Object writes and the Worker passes on. */
export const RungHeader = {
  model: "x-rung-model",
  node: "x-rung-node",
  attempts: "x-rung-attempts",
  escalations: "x-rung-escalations",
} as const;
