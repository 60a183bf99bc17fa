import type { Job, WireChatMessage } from "@rung/shared/protocol";

/** What the dispatcher needs of one upstream model in the policy (`policy.upstreams[].models[]`). */
export interface UpstreamModelTarget {
  /** The id the ladder and clients see. */
  id: string;
  /** The id the upstream API expects, when it differs. */
  upstreamModel?: string | undefined;
  capabilities?: { logprobs: boolean } | undefined;
}

/**
 * The OpenAI request body an upstream receives for a job: always streamed
 * with usage, the job's fields under OpenAI's names. Logprobs are asked for
 * only where the operator says the upstream gives them: escalation reads them,
 * and a server that does not support them may refuse the whole request.
 */
export function upstreamRequestBody(job: Job, model: UpstreamModelTarget): Record<string, unknown> {
  const { sampling } = job;
  const logprobs = model.capabilities?.logprobs === true;
  const body: Record<string, unknown> = {
    model: model.upstreamModel ?? model.id,
    stream: true,
    stream_options: { include_usage: true },
    temperature: sampling.temperature,
    top_p: sampling.topP,
    ...(sampling.maxTokens !== undefined ? { max_tokens: sampling.maxTokens } : {}),
    ...(sampling.stop.length > 0 ? { stop: sampling.stop } : {}),
    ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
  };
  if (job.input.kind === "completion") {
    return { ...body, prompt: job.input.prompt, ...(logprobs ? { logprobs: 1 } : {}) };
  }
  return {
    ...body,
    messages: job.input.messages.map(openAiMessage),
    ...(logprobs ? { logprobs: true } : {}),
    ...(job.responseFormat ? { response_format: responseFormatOf(job.responseFormat) } : {}),
    ...(job.tools
      ? {
          tools: job.tools.map((tool) => ({
            type: "function",
            function: { name: tool.name, description: tool.description, parameters: tool.parameters },
          })),
        }
      : {}),
    ...(job.toolChoice
      ? { tool_choice: typeof job.toolChoice === "string" ? job.toolChoice : { type: "function", function: { name: job.toolChoice.name } } }
      : {}),
  };
}

function openAiMessage(message: WireChatMessage): Record<string, unknown> {
  return {
    role: message.role,
    content: message.content,
    ...(message.toolCalls
      ? {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : {}),
    ...(message.toolCallId !== undefined ? { tool_call_id: message.toolCallId } : {}),
  };
}

function responseFormatOf(format: NonNullable<Job["responseFormat"]>): Record<string, unknown> {
  if (format.type === "json_object") return { type: "json_object" };
  return { type: "json_schema", json_schema: { name: format.name, schema: format.schema } };
}

/** Where a job goes on an upstream whose base URL ends before `/chat/completions` (e.g. `https://api.openai.com/v1`). */
export function upstreamEndpoint(baseUrl: string, job: Job): string {
  return `${baseUrl.replace(/\/+$/, "")}${job.input.kind === "chat" ? "/chat/completions" : "/completions"}`;
}
