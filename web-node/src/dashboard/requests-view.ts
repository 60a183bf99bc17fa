import type { RequestRoute } from "@rung/shared/protocol";
import { byId, el, ms } from "./dom.ts";

/** Routes shown, newest first; the feed keeps 100, so does the page. */
const SHOWN = 100;

/** Recent requests, newest first; clicking one shows its full trace. */
export class RequestsView {
  readonly #routes: RequestRoute[] = [];
  #chosen: string | undefined;

  constructor() {
    byId("requests").addEventListener("click", (event) => {
      const item = (event.target as HTMLElement).closest<HTMLElement>("[data-request]");
      if (!item) return;
      this.#chosen = item.dataset.request;
      this.#render();
    });
  }

  /** A snapshot's routes (oldest first), or one new route. */
  add(routes: readonly RequestRoute[]): void {
    this.#routes.unshift(...[...routes].reverse());
    this.#routes.splice(SHOWN);
    this.#render();
  }

  #render(): void {
    byId("requests").replaceChildren(...this.#routes.map((route) => this.#item(route)));
    const chosen = this.#routes.find((route) => route.id === this.#chosen);
    if (chosen) byId("trace").replaceChildren(traceOf(chosen));
  }

  #item(route: RequestRoute): HTMLLIElement {
    const path = route.attempts.map((attempt) => `${attempt.model}@${attempt.node} ${attempt.outcome}`).join(" → ");
    return el(
      "li",
      {},
      el(
        "button",
        { type: "button", "data-request": route.id, "aria-pressed": String(route.id === this.#chosen) },
        el("span", { class: route.status === 200 ? "ok" : "bad" }, String(route.status)),
        " ",
        el("strong", {}, route.model ?? route.requested),
        ` ${ms(route.totalMs)} · `,
        el("span", { class: "facts" }, path || "no attempt"),
      ),
    );
  }
}

/** The request's full route: what it asked for, then each attempt with its outcome, reason, confidence and times. */
function traceOf(route: RequestRoute): HTMLElement {
  const facts = el(
    "dl",
    {},
    ...pair("Request", route.id),
    ...pair("Ended", new Date(route.at).toLocaleTimeString()),
    ...pair("Asked for", route.requested),
    ...pair("Answered by", route.model ?? "–"),
    ...pair("Status", String(route.status)),
    ...pair("First token", ms(route.firstTokenMs)),
    ...pair("Total", ms(route.totalMs)),
    ...pair("Completion tokens", route.completionTokens === undefined ? "–" : String(route.completionTokens)),
  );
  return el("div", {}, facts, el("h3", {}, "Attempts"), attemptList(route.attempts));
}

/** Each attempt in words: model, node, outcome and why, confidence, times. The trace and the playground show it. */
export function attemptList(attempts: RequestRoute["attempts"]): HTMLOListElement {
  return el(
    "ol",
    { class: "attempts" },
    ...attempts.map((attempt) =>
      el(
        "li",
        { class: attempt.outcome === "answered" ? "ok" : "" },
        el("strong", {}, attempt.model),
        ` on ${attempt.node}${attempt.tier ? ` (${attempt.tier})` : ""}${attempt.hedge ? ", hedge" : ""}: `,
        el("em", {}, attempt.outcome),
        attempt.reason ? ` (${attempt.reason})` : "",
        attempt.confidence ? ` · confidence ${attempt.confidence.mean.toFixed(2)} mean, ${attempt.confidence.min.toFixed(2)} min` : "",
        ` · ${ms(attempt.ms)}`,
        attempt.firstTokenMs !== undefined ? `, first token ${ms(attempt.firstTokenMs)}` : "",
      ),
    ),
  );
}

function pair(term: string, value: string): [HTMLElement, HTMLElement] {
  return [el("dt", {}, term), el("dd", {}, value)];
}
