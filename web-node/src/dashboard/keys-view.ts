import { byId, el } from "./dom.ts";
import { type KeyUsage, keyListSchema, keyUsage, usageListSchema } from "./key-usage.ts";

/** Usage changes slowly against a live feed: read again this often while the page is open. */
const REFRESH_MS = 60_000;

/** Keys and their usage this month, from the admin API with the same admin key as the feed. */
export class KeysView {
  #adminKey = "";
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    byId("keys-refresh").addEventListener("click", () => void this.#load());
  }

  /** The feed accepted this key: read keys and usage now and every minute. */
  start(adminKey: string): void {
    this.#adminKey = adminKey;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.#load(), REFRESH_MS);
    void this.#load();
  }

  async #load(): Promise<void> {
    const facts = byId("keys-facts");
    const today = new Date().toISOString().slice(0, 10);
    const headers = { authorization: `Bearer ${this.#adminKey}` };
    try {
      const [keys, usage] = await Promise.all([
        fetch("/admin/keys", { headers }).then((r) => read(r, "keys")),
        fetch(`/admin/usage?from=${today.slice(0, 8)}01`, { headers }).then((r) => read(r, "usage")),
      ]);
      const rows = keyUsage(keyListSchema.parse(keys).data, usageListSchema.parse(usage).data, today);
      render(rows);
      facts.textContent = `This month (UTC), read ${new Date().toLocaleTimeString()}. Static keys (RUNG_API_KEYS) are not listed.`;
    } catch (error) {
      facts.textContent = `Keys and usage could not be read: ${(error as Error).message}`;
    }
  }
}

async function read(response: Response, what: string): Promise<unknown> {
  if (!response.ok) throw new Error(`GET /admin/${what} answered ${response.status}`);
  return response.json();
}

function render(rows: readonly KeyUsage[]): void {
  const body = byId("keys").querySelector("tbody")!;
  body.replaceChildren(
    ...rows.map(({ key, requests, tokens, todayTokens, cost, monthlyUsed }) => {
      const limits = [
        key.rpm !== null && `${key.rpm} req/min`,
        key.tpm !== null && `${key.tpm} tok/min`,
        key.concurrency !== null && `${key.concurrency} at once`,
      ].filter(Boolean);
      const budget = el(
        "td",
        {},
        key.monthlyTokens === null ? "none" : `${Math.round((monthlyUsed ?? 0) * 100)}% of ${key.monthlyTokens.toLocaleString()}`,
      );
      if (monthlyUsed !== undefined) {
        budget.append(el("meter", { min: "0", max: "1", low: "0.75", high: "0.9", optimum: "0", value: String(Math.min(1, monthlyUsed)) }));
      }
      return el(
        "tr",
        { "data-key": key.id },
        el(
          "td",
          {},
          el("strong", {}, key.name),
          el("br"),
          el("span", { class: "facts" }, `${key.id} · ${key.pool} · ${key.tiers.join(", ")}`),
        ),
        el("td", {}, requests.toLocaleString()),
        el("td", {}, `${tokens.toLocaleString()} (${todayTokens.toLocaleString()} today)`),
        el("td", {}, `$${cost.toFixed(4)}`),
        el("td", {}, limits.length > 0 ? limits.join(", ") : "none"),
        budget,
      );
    }),
  );
  if (rows.length === 0) body.append(el("tr", {}, el("td", { colspan: "6", class: "facts" }, "No key made with the admin API yet.")));
}
