import type { Tool, ToolCall, ToolChoice } from "@rung/shared/protocol";

/**
 * The system text that tells the model which functions it has and how to call
 * one: the same JSON object the grammar enforces (see answer-shape.ts), so what
 * the model reads and what it may write agree.
 */
export function toolPrompt(tools: readonly Tool[], toolChoice: ToolChoice = "auto"): string {
  const list = tools.map((t) => JSON.stringify({ name: t.name, description: t.description, parameters: t.parameters })).join("\n");
  const how = 'To call a function, answer with only a JSON object {"name": <function name>, "arguments": <arguments object>}.';
  const when =
    toolChoice === "auto"
      ? "Call one when it helps answer; otherwise answer in plain text."
      : typeof toolChoice === "object"
        ? `Call ${toolChoice.name} now.`
        : "Call one of them now.";
  return `You can call these functions:\n${list}\n${how} ${when}`;
}

/** An earlier call as the model would have written it, for the history. */
export function toolCallText(call: ToolCall): string {
  let args: unknown = call.arguments;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    // A client may send back arguments that are not JSON; the model reads them as they came.
  }
  return JSON.stringify({ name: call.name, arguments: args });
}
