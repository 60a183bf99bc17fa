import { EngineError, type GenerationRequest } from "@rung/shared/node";
import type { Tool } from "@rung/shared/protocol";
import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { prepareGrammarSchema } from "./prepare-grammar-schema.ts";

export const INVALID_SCHEMA = "invalid_schema";

/**
 * What the answer must look like, and the grammar that makes the sampler keep
 * to it. `text` streams as it is (JSON when a response format asked for it);
 * `tool-call` is one function call the model must make; `text-or-tool-call`
 * lets the model choose (`tool_choice: auto`), telling the two apart by the
 * first character: a call is a JSON object, text may not start with `{`.
 *
 * Why our own grammar instead of node-llama-cpp's function calling (LlamaChat
 * with `functions`): that runs its own generation loop, which reports no
 * per-token probability, and the edge's escalation needs one for every token.
 * A grammar applies inside our loop (a LlamaGrammarEvaluationState on the
 * sampler), so the confidence stays real and the call is valid by construction.
 */
export type AnswerShape =
  | { kind: "text"; grammar?: LlamaGrammar }
  | { kind: "tool-call"; grammar: LlamaGrammar; tools: Tool[] }
  | { kind: "text-or-tool-call"; grammar: LlamaGrammar; tools: Tool[] };

export async function answerShapeOf(llama: Llama, request: GenerationRequest): Promise<AnswerShape> {
  const { responseFormat, toolChoice = "auto" } = request;
  const tools = toolChoice === "none" ? [] : (request.tools ?? []);
  if (tools.length > 0) {
    const allowed = typeof toolChoice === "object" ? tools.filter((t) => t.name === toolChoice.name) : tools;
    if (allowed.length === 0) {
      throw new EngineError(
        INVALID_SCHEMA,
        `tool_choice names ${JSON.stringify((toolChoice as { name: string }).name)}, which is not among the tools`,
        false,
      );
    }
    const call = await jsonSchemaGrammar(llama, callSchemaOf(allowed), "tool parameters");
    if (toolChoice !== "auto") return { kind: "tool-call", grammar: call, tools: allowed };
    // The call grammar's own root stays; a new root adds the plain-text branch. Its stop trigger (a run
    // of four newlines) then ends text answers too, which costs a text answer nothing it needs.
    const grammar = await llama.createGrammar({
      grammar: `${call.grammar}\nrung-answer ::= root | rung-text\nrung-text ::= [^{] [^\\x00]*\n`,
      rootRuleName: "rung-answer",
      stopGenerationTriggers: call.stopGenerationTriggers,
    });
    return { kind: "text-or-tool-call", grammar, tools: allowed };
  }
  if (responseFormat?.type === "json_object") return { kind: "text", grammar: await llama.getGrammarFor("json") };
  if (responseFormat?.type === "json_schema")
    return { kind: "text", grammar: await jsonSchemaGrammar(llama, responseFormat.schema, "response_format schema") };
  return { kind: "text" };
}

/** `{"name": <one of the functions>, "arguments": <its parameters>}`. */
function callSchemaOf(tools: readonly Tool[]): Record<string, unknown> {
  const calls = tools.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: tool.parameters ?? { type: "object", properties: {} } },
    required: ["name", "arguments"],
  }));
  return calls.length === 1 ? calls[0]! : { oneOf: calls };
}

async function jsonSchemaGrammar(llama: Llama, schema: unknown, what: string): Promise<LlamaGrammar> {
  const prepared = prepareGrammarSchema(schema);
  if (!prepared.ok) throw new EngineError(INVALID_SCHEMA, `the ${what} cannot be used: ${prepared.message}`, false);
  try {
    return await llama.createGrammarForJsonSchema<GbnfJsonSchema>(prepared.schema as GbnfJsonSchema);
  } catch (error) {
    // Not retryable: every node compiles the same schema the same way.
    throw new EngineError(INVALID_SCHEMA, `the ${what} cannot be compiled to a grammar: ${String(error)}`, false, { cause: error });
  }
}
