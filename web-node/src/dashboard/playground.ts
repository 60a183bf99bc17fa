import type { DashboardPool, RequestRoute } from "@rung/shared/protocol";
import { PROFILE_NAMES } from "@rung/shared/routing";
import { byId, el, ms } from "./dom.ts";
import { ladderPicture } from "./ladder-picture.ts";
import { attemptList } from "./requests-view.ts";

/** The `rung` trace of a streamed answer's chunks (the edge adds it to the last one). */
interface StreamChunk {
  choices?: { delta?: { content?: string | null } }[];
  rung?: { model: string; node: string; escalations: number; attempts: RequestRoute["attempts"] };
  error?: { message?: string };
}

/**
 * Send a prompt as any client would (a streamed chat completion with an API
 * key), watch the answer arrive, and see the ladder it climbed. The key stays
 * in the page; the prompt goes to the edge's API, never to the dashboard feed.
 */
export class Playground {
  #models: string[] = [];
  #sending: AbortController | undefined;

  constructor() {
    byId("playground-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.#send();
    });
    this.#fillModels();
  }

  /** The pool's models as the feed tells them, after `auto` and its profiles. */
  models(pool: DashboardPool): void {
    const models = pool.catalog.map((entry) => entry.id).sort();
    if (models.join("\n") === this.#models.join("\n")) return;
    this.#models = models;
    this.#fillModels();
  }

  #fillModels(): void {
    const select = byId<HTMLSelectElement>("playground-model");
    const chosen = select.value || "auto";
    const options = ["auto", ...PROFILE_NAMES.map((profile) => `auto:${profile}`), ...this.#models];
    select.replaceChildren(...options.map((value) => el("option", { value }, value)));
    select.value = options.includes(chosen) ? chosen : "auto";
  }

  async #send(): Promise<void> {
    this.#sending?.abort();
    const sending = new AbortController();
    this.#sending = sending;
    const answer = byId("playground-answer");
    const outcome = byId("playground-outcome");
    answer.textContent = "";
    outcome.textContent = "Waiting for the first token…";
    byId("playground-ladder").replaceChildren();
    const started = performance.now();
    const key = byId<HTMLInputElement>("playground-key").value.trim();
    try {
      const response = await fetch("/v1/chat/completions", {
        method: "POST",
        signal: sending.signal,
        headers: { "content-type": "application/json", ...(key && { authorization: `Bearer ${key}` }) },
        body: JSON.stringify({
          model: byId<HTMLSelectElement>("playground-model").value,
          messages: [{ role: "user", content: byId<HTMLTextAreaElement>("playground-prompt").value }],
          max_tokens: Number(byId<HTMLInputElement>("playground-max-tokens").value) || undefined,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => ({}))) as StreamChunk;
        outcome.textContent = `${response.status}: ${body.error?.message ?? response.statusText}`;
        outcome.className = "bad";
        return;
      }
      let firstToken: number | undefined;
      for await (const chunk of sseChunks(response.body)) {
        if (chunk.error) throw new Error(chunk.error.message ?? "the stream failed");
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) {
          firstToken ??= performance.now() - started;
          answer.textContent += text;
        }
        if (chunk.rung) {
          byId("playground-ladder").replaceChildren(ladderPicture(chunk.rung.attempts), attemptList(chunk.rung.attempts));
          const climbs = chunk.rung.escalations === 1 ? "1 climb" : `${chunk.rung.escalations} climbs`;
          outcome.textContent = `Answered by ${chunk.rung.model} on ${chunk.rung.node} · ${climbs} · first token ${ms(firstToken)} · ${ms(performance.now() - started)} in all`;
          outcome.className = "ok";
        }
      }
    } catch (error) {
      if (sending.signal.aborted) return;
      outcome.textContent = `Failed: ${(error as Error).message}`;
      outcome.className = "bad";
    }
  }
}

/** The JSON payloads of a server-sent-events body, until `[DONE]`. */
async function* sseChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamChunk> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    const events = pending.split("\n\n");
    pending = events.pop() ?? "";
    for (const event of events) {
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      if (data === "[DONE]") return;
      if (data) yield JSON.parse(data) as StreamChunk;
    }
  }
}
