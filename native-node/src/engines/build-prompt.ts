import type { ChatHistoryItem, ChatWrapper, LlamaModel, LlamaText, Token } from "node-llama-cpp";
import type { JobInput, WireChatMessage } from "@rung/shared/protocol";

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
 * was trained on. Completions are the raw prompt after BOS.
 */
export function buildPrompt(model: LlamaModel, chatWrapper: ChatWrapper, input: JobInput): Prompt {
  if (input.kind === "completion") return { tokens: tokenizeWithBos(model, input.prompt), stopTokens: [], stopTexts: [] };
  const state = chatWrapper.generateContextState({
    chatHistory: [...input.messages.map(toHistoryItem), { type: "model", response: [] }],
  });
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

function toHistoryItem(message: WireChatMessage): ChatHistoryItem {
  switch (message.role) {
    case "system":
    case "developer":
      return { type: "system", text: message.content };
    case "assistant":
      return { type: "model", response: [message.content] };
    case "user":
    case "tool":
      // Tool calling is not wired yet; a tool result is still context the model should read.
      return { type: "user", text: message.content };
  }
}

/** Plain text triggers are matched on decoded text; ones with special tokens on token ids. */
function isPlainText(text: LlamaText): boolean {
  return text.values.every((value) => typeof value === "string");
}
