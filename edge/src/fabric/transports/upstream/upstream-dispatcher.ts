import { type Job, type JobError, type WireError, WireErrorCode, wireError } from "@rung/shared/protocol";
import { LineTooLongError, readLines } from "../../../read-lines.ts";
import type { TransportHost } from "../transport.ts";
import { UpstreamReply } from "./upstream-reply.ts";
import { type UpstreamModelTarget, upstreamEndpoint, upstreamRequestBody } from "./upstream-request.ts";

/** What the dispatcher needs of one upstream in the policy (`policy.upstreams[]`). */
export interface UpstreamTarget {
  name: string;
  /** Ends before `/chat/completions`, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Name of the Worker secret holding the bearer key; absent: no Authorization header. */
  keySecret?: string | undefined;
  models: readonly UpstreamModelTarget[];
}

export const UpstreamErrorCode = {
  keyMissing: "upstream_key_missing",
  refused: "upstream_refused",
  failed: "upstream_failed",
  incomplete: "upstream_incomplete",
} as const;

/** An SSE line longer than this is a broken upstream, not an answer (a frame is capped the same). */
const MAX_EVENT_CHARACTERS = 1024 * 1024;
/** Enough of an error body for OpenAI's `{ error: { message } }`; the rest is not read. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

/**
 * Sends jobs to OpenAI-compatible upstreams: one streamed POST per job, whose
 * server-sent events become the frames a node would send, delivered to the
 * same host as a tunnel node's. Every way a call can fail ends in a job-error
 * frame that says why, retryable as OpenAI's own SDKs would retry it.
 * Cancelling aborts the call.
 */
export class UpstreamDispatcher {
  readonly #calls = new Map<string, AbortController>();

  constructor(
    private readonly host: Pick<TransportHost, "onFrame">,
    /** The Worker's env, where `keySecret` names the key; the policy never holds a key. */
    private readonly env: object,
  ) {}

  /** Starts the job on the upstream; its frames arrive at the host as `nodeId`'s. */
  send(nodeId: string, upstream: UpstreamTarget, job: Job): void {
    void this.#call(nodeId, upstream, job);
  }

  /** Stops a job's call. False when there is none. */
  cancel(jobId: string): boolean {
    const call = this.#calls.get(jobId);
    this.#calls.delete(jobId);
    call?.abort();
    return call !== undefined;
  }

  async #call(nodeId: string, upstream: UpstreamTarget, job: Job): Promise<void> {
    const controller = new AbortController();
    this.#calls.set(job.jobId, controller);
    // No frame may arrive before `send` returns: the router registers the attempt only then.
    await Promise.resolve();
    const fail = (error: WireError) => {
      // A cancelled job's end is the edge's own doing: nobody waits for its frames.
      if (!controller.signal.aborted) this.host.onFrame(nodeId, { type: "job-error", jobId: job.jobId, error } satisfies JobError);
    };
    try {
      const model = upstream.models.find((m) => m.id === job.model);
      if (!model) return fail(wireError(WireErrorCode.unknownModel, `upstream ${upstream.name} has no model ${job.model}`, false));
      const key = upstream.keySecret === undefined ? undefined : Reflect.get(this.env, upstream.keySecret);
      if (upstream.keySecret !== undefined && (typeof key !== "string" || key === "")) {
        const message = `upstream ${upstream.name} needs its key in the Worker secret ${upstream.keySecret}, which is not set (wrangler secret put ${upstream.keySecret})`;
        // Retryable for routing: another rung can answer, and the breaker takes this upstream out.
        return fail(wireError(UpstreamErrorCode.keyMissing, message, true));
      }
      const response = await fetch(upstreamEndpoint(upstream.baseUrl, job), {
        method: "POST",
        // The key goes to the configured URL only, never to wherever a redirect points.
        redirect: "manual",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(upstreamRequestBody(job, model)),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) return fail(await httpError(upstream.name, response));
      const reply = new UpstreamReply(job);
      for await (const line of readLines(response.body, { signal: controller.signal, maxLineLength: MAX_EVENT_CHARACTERS })) {
        // Comments, `event:` and `id:` lines carry nothing a job needs.
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return this.host.onFrame(nodeId, reply.done());
        const step = reply.read(data);
        if (step.error) return fail(wireError(UpstreamErrorCode.failed, `upstream ${upstream.name}: ${step.error}`, true));
        if (step.chunk) this.host.onFrame(nodeId, step.chunk);
      }
      fail(wireError(UpstreamErrorCode.incomplete, `upstream ${upstream.name} ended its answer before [DONE]`, true));
    } catch (error) {
      const message =
        error instanceof LineTooLongError
          ? `upstream ${upstream.name} sent an over-long event: ${error.message}`
          : `upstream ${upstream.name} could not be reached or broke off: ${String(error)}`;
      fail(wireError(error instanceof LineTooLongError ? WireErrorCode.badFrame : WireErrorCode.nodeDisconnected, message, true));
    } finally {
      this.#calls.delete(job.jobId);
      // However the call ended, close it: an upstream must not hold the connection (or bill) past its answer.
      controller.abort();
    }
  }
}

/**
 * A refusal as OpenAI's SDKs judge it: 408, 409, 429 and 5xx are worth another
 * try, the rest are not. A refused key (401, 403) is the operator's fault, not
 * the request's: another rung may still answer, so it moves the request on.
 */
async function httpError(name: string, response: Response): Promise<WireError> {
  const status = response.status;
  const detail = await errorMessageOf(response);
  const message = `upstream ${name} answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
  const keyRefused = status === 401 || status === 403;
  const transient = status === 408 || status === 409 || status >= 500;
  const code = keyRefused
    ? WireErrorCode.unauthorized
    : status === 429
      ? WireErrorCode.busy
      : transient
        ? UpstreamErrorCode.failed
        : UpstreamErrorCode.refused;
  return wireError(code, message.slice(0, 4_000), keyRefused || transient || status === 429);
}

/** OpenAI's `{ error: { message } }` from the first bytes of the body, or its text; never more than the cap. */
async function errorMessageOf(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const bytes: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off still leaves the status to report.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(concat(bytes)).slice(0, MAX_ERROR_BODY_BYTES);
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON: the text itself says what happened.
  }
  return text.trim().slice(0, 500);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return all;
}
