import type { NodeView } from "@rung/shared/routing";
import type { Trust } from "./entrance.ts";
import type { NodeAnnouncements } from "./node-announcements.ts";
import type { SlotCounts } from "./slot-counts.ts";

/**
 * A joined node as the router sees it, from what it announced and the jobs it
 * runs: socket and tunnel nodes alike. Undefined for a node with no announcement.
 * `trust`: a socket's tier from its attachment; otherwise what the node claimed.
 *
 * The view is built once per node and kept: its load and its models (whose
 * speeds heartbeats update) are read through getters at the moment the router
 * asks, so routing never rebuilds views of idle nodes per request.
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
    engine: announcement.node.engine,
    trust: trust ?? announcement.node.trust ?? "private",
    slots: announcement.node.slots,
    draining,
    get models() {
      return announcements.get(nodeId)?.models ?? [];
    },
    get active() {
      return slots.active(nodeId);
    },
    get activeByModel() {
      return slots.activeByModel(nodeId);
    },
  };
}
