import { NodeAnnouncements } from "../src/fabric/node-announcements.ts";
import { SlotCounts } from "../src/fabric/slot-counts.ts";
import { SocketNodes } from "../src/fabric/transports/socket/socket-nodes.ts";

/** The socket registry as a freshly woken object builds it: from the sockets the runtime kept and the announcements in storage. */
export function wokenRegistry(state: DurableObjectState): SocketNodes {
  const announcements = new NodeAnnouncements(state.storage);
  const registry = new SocketNodes(state, announcements, new SlotCounts());
  announcements.restore((nodeId) => registry.owns(nodeId));
  return registry;
}
