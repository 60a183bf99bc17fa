import type { NodeView } from "@rung/shared/routing";
import type { Caller, Tier } from "../keys/caller.ts";

/** What a key may reach: node tiers, and model ids when the key lists them. */
export type Access = Pick<Caller, "tiers" | "models">;

/** A caller's access, as plain data that crosses to the pool's object. */
export function accessOf({ tiers, models }: Caller): Access {
  return { tiers, ...(models && { models }) };
}

export function tierOf(view: Pick<NodeView, "trust">): Tier {
  return view.trust ?? "private";
}

/** Whether a request of this key may run on this node and model: the one check every dispatch passes. */
export function mayReach(access: Access, view: Pick<NodeView, "trust">, modelId: string): boolean {
  return access.tiers.includes(tierOf(view)) && (access.models === undefined || access.models.includes(modelId));
}

/**
 * The nodes a key's request may see, each with only the models it may use: the
 * ladder is planned over these, so no climb, hedge or retry can step outside
 * them. A key of every tier and any model sees the list as it is, unfiltered.
 */
export function visibleNodes(views: readonly NodeView[], access: Access): readonly NodeView[] {
  const allTiers = access.tiers.includes("private") && access.tiers.includes("public");
  if (allTiers && access.models === undefined) return views;
  const visible: NodeView[] = [];
  for (const view of views) {
    if (!access.tiers.includes(tierOf(view))) continue;
    const models = access.models === undefined ? view.models : view.models.filter((m) => access.models!.includes(m.id));
    if (models.length === view.models.length) visible.push(view);
    else if (models.length > 0) visible.push({ ...view, models });
  }
  return visible;
}
