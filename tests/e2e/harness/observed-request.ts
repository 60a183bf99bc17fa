import { errorBodySchema } from "@rung/shared/openai";
import OpenAI from "openai";

/** How one request ended, as its client saw it. */
export type Outcome =
  /** A whole answer, or a stream that ended with its closing chunk and [DONE]. */
  | { kind: "answer"; text: string }
  /** A stream that ended with an error event; `text` is what came before it. */
  | { kind: "stream-error"; text: string; code: string | null }
  /** An HTTP error status before any answer. */
  | { kind: "http-error"; status: number; code: string | null }
  /** The connection failed or broke: nothing from the edge, or a body cut short. */
  | { kind: "connection"; message: string }
  /** No end within the client's timeout. */
  | { kind: "hang" };

export interface ObservedRequest {
  stream: boolean;
  /** `performance.now()` when it was sent and when it ended. */
  startedAt: number;
  endedAt: number;
  /** The `x-rung-node` of the answer, when the edge committed to one. */
  node: string | null;
  /** `x-rung-attempts`: how many attempts the edge made, the committed one included; 0 when it committed to none. */
  attempts: number;
  outcome: Outcome;
  /** What is wrong with the bytes on the wire, beside the outcome: an error not in OpenAI's shape, a stream not ended exactly once. */
  wireFaults: string[];
}

export interface ObserveOptions {
  baseUrl: string;
  apiKey: string;
  stream: boolean;
  /** The client's timeout for the whole request, body included: past it, the request counts as hung. */
  timeoutMs: number;
}

/**
 * Sends one chat completion through the official `openai` client, with no
 * retries of its own, and keeps the raw bytes the edge sent as well as what
 * the client made of them: the client decides the outcome, the bytes show
 * whether an error was OpenAI-shaped and a stream ended exactly once. The
 * body is read whole before the client parses it, so the client's timeout
 * covers the whole answer, and an error event's [DONE] is seen even though
 * the client stops reading at the error.
 */
export async function observeRequest(
  params: OpenAI.ChatCompletionCreateParamsNonStreaming,
  options: ObserveOptions,
): Promise<ObservedRequest> {
  const wire: { node: string | null; attempts: number; body?: string } = { node: null, attempts: 0 };
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    wire.node = response.headers.get("x-rung-node");
    wire.attempts = Number(response.headers.get("x-rung-attempts") ?? 0);
    wire.body = await response.text();
    return new Response(wire.body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: recordingFetch,
  });
  const startedAt = performance.now();
  const outcome = await withWatchdog(answerOf(client, params, options.stream), options.timeoutMs);
  const endedAt = performance.now();
  const { node, attempts } = wire;
  return { stream: options.stream, startedAt, endedAt, node, attempts, outcome, wireFaults: wireFaults(outcome, wire, options.stream) };
}

async function answerOf(client: OpenAI, params: OpenAI.ChatCompletionCreateParamsNonStreaming, stream: boolean): Promise<Outcome> {
  let text = "";
  try {
    if (!stream) {
      const answer = await client.chat.completions.create(params);
      return { kind: "answer", text: answer.choices[0]?.message.content ?? "" };
    }
    for await (const chunk of await client.chat.completions.create({ ...params, stream: true }))
      text += chunk.choices[0]?.delta.content ?? "";
    return { kind: "answer", text };
  } catch (error) {
    if (error instanceof OpenAI.APIConnectionTimeoutError) return { kind: "hang" };
    if (error instanceof OpenAI.APIConnectionError) return { kind: "connection", message: String(error.cause ?? error.message) };
    // The client throws an error event of a stream as an APIError without a status.
    if (error instanceof OpenAI.APIError && error.status === undefined) return { kind: "stream-error", text, code: error.code ?? null };
    if (error instanceof OpenAI.APIError) return { kind: "http-error", status: error.status, code: error.code ?? null };
    throw error;
  }
}

/** The client's own timeout should end a hung request; this catches one it misses, so no request can hold the test. */
function withWatchdog(outcome: Promise<Outcome>, timeoutMs: number): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "hang" }), timeoutMs + 5_000);
  });
  return Promise.race([outcome, hang]).finally(() => clearTimeout(timer));
}

function wireFaults(outcome: Outcome, wire: { body?: string }, stream: boolean): string[] {
  if (outcome.kind === "http-error") return isErrorBody(wire.body) ? [] : [`HTTP ${outcome.status} body not OpenAI-shaped: ${wire.body}`];
  if (!stream || (outcome.kind !== "answer" && outcome.kind !== "stream-error")) return [];
  const events = (wire.body ?? "")
    .split("\n\n")
    .filter((event) => event.startsWith("data: "))
    .map((event) => event.slice("data: ".length));
  const faults: string[] = [];
  if (events.at(-1) !== "[DONE]" || events.indexOf("[DONE]") !== events.length - 1) faults.push("stream does not end with one [DONE]");
  const data = events.filter((event) => event !== "[DONE]").map((event) => JSON.parse(event) as Record<string, unknown>);
  const errors = data.filter((event) => "error" in event);
  const finishes = data.filter((event) => (event.choices as { finish_reason?: string | null }[] | undefined)?.[0]?.finish_reason);
  if (errors.length + finishes.length !== 1)
    faults.push(`stream ended ${errors.length} times with an error and ${finishes.length} with a finish`);
  if (errors.length > 0 && data.at(-1) !== errors[0]) faults.push("the stream's error event is not its last before [DONE]");
  for (const error of errors)
    if (!isErrorBody(JSON.stringify(error))) faults.push(`error event not OpenAI-shaped: ${JSON.stringify(error)}`);
  return faults;
}

function isErrorBody(body: string | undefined): boolean {
  try {
    return errorBodySchema.safeParse(JSON.parse(body ?? "")).success;
  } catch {
    return false;
  }
}
