import type { NodeView } from "@rung/shared/routing";
import type { Trust } from "./entrance.ts";
import type { NodeAnnouncements } from "./node-announcements.ts";
import type { SlotCounts } from "./slot-counts.ts";

/**
 * A joined node as the router sees it, from what it announced and the jobs it
 * runs: socket and tunnel nodes alike. Undefined for a node with no announcement.
 * `trust`: a socket's tier from its attachment; otherwise what the node claimed.
 */
export function announcedNodeView(
  nodeId: string,
  announcements: NodeAnnouncements,
  slots: SlotCounts,
  draining: boolean,
  trust?: Trust,
): NodeView | undefined {
  const announcement = announcements.get(nodeId);
  if (!announcement) return undefined;
  return {
    id: nodeId,
    name: announcement.node.name,
    kind: announcement.node.kind,
    trust: trust ?? announcement.node.trust ?? "private",
    slots: announcement.node.slots,
    active: slots.active(nodeId),
    activeByModel: slots.activeByModel(nodeId),
    draining,
    models: announcement.models,
  };
}
