import type { Tool, ToolChoice } from "@rung/shared/protocol";

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
