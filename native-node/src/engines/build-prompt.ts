import { toolCallText } from "@rung/shared/node";
import type { JobInput, WireChatMessage } from "@rung/shared/protocol";
import type { ChatHistoryItem, ChatWrapper, LlamaModel, LlamaText, Token } from "node-llama-cpp";

/** What generation starts from, and what ends it besides end-of-generation tokens. */
export interface Prompt {
  tokens: Token[];
  /** Token sequences that end generation (chat templates' end-of-turn markers). */
  stopTokens: Token[][];
  /** Text that ends generation (templates that end turns with plain text). */
  stopTexts: string[];
}

/**
 * Chat requests go through the model's own chat template (the wrapper
 * node-llama-cpp resolves from the GGUF), so any model answers in the format it
 * was trained on. Completions are the raw prompt after BOS. `system` (the
 * functions the model may call) joins the first system message, or becomes one.
 */
export function buildPrompt(model: LlamaModel, chatWrapper: ChatWrapper, input: JobInput, system?: string): Prompt {
  if (input.kind === "completion") return { tokens: tokenizeWithBos(model, input.prompt), stopTokens: [], stopTexts: [] };
  const history = input.messages.map((message) => toHistoryItem(message, input.messages));
  if (system) {
    const first = history[0];
    if (first?.type === "system") history[0] = { type: "system", text: `${first.text}\n\n${system}` };
    else history.unshift({ type: "system", text: system });
  }
  const state = chatWrapper.generateContextState({ chatHistory: [...history, { type: "model", response: [] }] });
  const stopTokens: Token[][] = [];
  const stopTexts: string[] = [];
  for (const trigger of state.stopGenerationTriggers) {
    if (isPlainText(trigger)) stopTexts.push(trigger.toString());
    else stopTokens.push(trigger.tokenize(model.tokenizer));
  }
  return { tokens: state.contextText.tokenize(model.tokenizer), stopTokens, stopTexts };
}

/** Raw text as the model expects to start: BOS first when the model asks for it (as llama.cpp does). */
export function tokenizeWithBos(model: LlamaModel, text: string): Token[] {
  const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos] : [];
  return [...bos, ...model.tokenize(text)];
}

/**
 * Calls and their results render as text in the form the model is told to call
 * with (see tool-prompt.ts), rather than through the template's own function
 * syntax: that is the form this node's grammar makes the model write.
 */
function toHistoryItem(message: WireChatMessage, messages: readonly WireChatMessage[]): ChatHistoryItem {
  switch (message.role) {
    case "system":
    case "developer":
      return { type: "system", text: message.content };
    case "assistant": {
      const calls = (message.toolCalls ?? []).map(toolCallText);
      return { type: "model", response: [[message.content, ...calls].filter(Boolean).join("\n")] };
    }
    case "user":
      return { type: "user", text: message.content };
    case "tool": {
      const call = messages.flatMap((m) => m.toolCalls ?? []).find((c) => c.id === message.toolCallId);
      return {
        type: "user",
        text: `Result of ${call ? `${call.name} (call ${call.id})` : `call ${message.toolCallId ?? "?"}`}:\n${message.content}`,
      };
    }
  }
}

/** Plain text triggers are matched on decoded text; ones with special tokens on token ids. */
function isPlainText(text: LlamaText): boolean {
  return text.values.every((value) => typeof value === "string");
}
