import type { ToolCall } from "../protocol/messages.ts";

/**
 * An earlier call as the model would have written it, for the chat history:
 * the JSON object the agent's grammar makes models call with. Every engine
 * renders history this way, so a conversation reads the same on any node.
 */
export function toolCallText(call: ToolCall): string {
  let args: unknown = call.arguments;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    // A client may send back arguments that are not JSON; the model reads them as they came.
  }
  return JSON.stringify({ name: call.name, arguments: args });
}
