import type { DashboardPool } from "@rung/shared/protocol";
import { byId, el, ms } from "./dom.ts";

type CatalogNode = DashboardPool["catalog"][number]["nodes"][number];

/** One node across the models it serves (the catalog lists nodes under each model). */
interface NodeRow {
  node: CatalogNode;
  models: string[];
  active: number;
  slots: number;
  breakers: string[];
}

/** The pool's nodes, grouped by tier and engine, one row each. */
export function renderNodes(pool: DashboardPool): void {
  const rows = new Map<string, NodeRow>();
  for (const entry of pool.catalog) {
    for (const node of entry.nodes) {
      const row = rows.get(node.id) ?? { node, models: [], active: 0, slots: 0, breakers: [] };
      row.models.push(entry.id);
      row.active += node.active;
      row.slots += node.slots ?? 0;
      if (node.breaker !== "closed") row.breakers.push(`${entry.id}: ${node.breaker}`);
      rows.set(node.id, row);
    }
  }
  const groupOf = (row: NodeRow) => `${row.node.trust} · ${row.node.engine ?? row.node.kind ?? "unknown"}`;
  const sorted = [...rows.values()].sort((a, b) => groupOf(a).localeCompare(groupOf(b)) || a.node.name.localeCompare(b.node.name));
  const body = byId("nodes").querySelector("tbody")!;
  body.replaceChildren();
  let group = "";
  for (const row of sorted) {
    if (groupOf(row) !== group) {
      group = groupOf(row);
      body.append(el("tr", { class: "group" }, el("th", { colspan: "7", scope: "rowgroup" }, group)));
    }
    body.append(nodeRow(row));
  }
  if (rows.size === 0) body.append(el("tr", {}, el("td", { colspan: "7", class: "facts" }, "No node is connected.")));
  byId("pool-facts").textContent =
    `${rows.size} ${rows.size === 1 ? "node" : "nodes"} · ${pool.catalog.length} models · ${pool.inFlight} attempts in flight · ${pool.queued} queued`;
}

function nodeRow({ node, models, active, slots, breakers }: NodeRow): HTMLTableRowElement {
  const load = el("td", {}, `${active} / ${slots}`);
  if (slots > 0) load.append(el("meter", { min: "0", max: String(slots), value: String(active), "aria-label": "load" }));
  const standing = node.verification
    ? `${node.verification.standing} (${node.verification.agreed} agreed, ${node.verification.differed} differed)`
    : node.trust === "public"
      ? "unchecked"
      : "trusted";
  return el(
    "tr",
    { "data-node": node.name, ...(node.draining && { class: "draining" }) },
    el("td", {}, el("strong", {}, node.name), node.draining ? " (draining)" : ""),
    el("td", {}, models.join(", ")),
    load,
    el("td", {}, `${Math.round(node.tokensPerSecond)} tok/s`),
    el("td", {}, ms(node.firstTokenMedianMs)),
    el("td", { class: breakers.length > 0 ? "bad" : "" }, breakers.length > 0 ? breakers.join("; ") : "closed"),
    el("td", { class: node.verification?.standing === "quarantined" ? "bad" : "" }, standing),
  );
}
