import type { ChatCompletionMessageParam } from "@mlc-ai/web-llm";
import { toolCallText } from "@rung/shared/node";
import type { WireChatMessage } from "@rung/shared/protocol";

/**
 * WebLLM takes one system message, first, and a chat that ends with a user or
 * tool turn. Leading system and developer turns merge into that one; a later
 * one becomes a user turn. Tool calls and results become plain text, as the
 * native agent renders them for models without a tool syntax of their own.
 */
export function toWebllmMessages(messages: readonly WireChatMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const message of messages) {
    switch (message.role) {
      case "system":
      case "developer": {
        const first = out[0];
        if (out.length === 0) out.push({ role: "system", content: message.content });
        else if (out.length === 1 && first?.role === "system")
          out[0] = { role: "system", content: `${first.content}\n\n${message.content}` };
        else out.push({ role: "user", content: message.content });
        break;
      }
      case "user":
        out.push({ role: "user", content: message.content });
        break;
      case "assistant": {
        const calls = (message.toolCalls ?? []).map(toolCallText);
        out.push({ role: "assistant", content: [message.content, ...calls].filter(Boolean).join("\n") });
        break;
      }
      case "tool":
        out.push({ role: "user", content: `Result of call ${message.toolCallId ?? "?"}:\n${message.content}` });
        break;
    }
  }
  return out;
}
