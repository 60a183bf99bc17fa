import type { Heartbeat, Hello } from "@rung/shared/protocol";

/** What a node said about itself in `hello`, kept current by its heartbeats. */
export type Announcement = Pick<Hello, "node" | "models" | "hardware">;

/**
 * A measured speed within this fraction of the stored one only updates memory:
 * heartbeats arrive every 15 s per node, and the router orders by speed, not
 * by its last digit, so storage is written only when the order could change.
 */
const SPEED_WRITE_THRESHOLD = 0.1;

const ANNOUNCEMENT_PREFIX = "node:";
const announcementKey = (nodeId: string) => `${ANNOUNCEMENT_PREFIX}${nodeId}`;

/**
 * What joined nodes announced, whatever carries them (socket or tunnel).
 * Socket attachments are capped at 2 KB, so a node's announcement (which
 * lists its models) lives in storage under the node's id, with a memory cache.
 */
export class NodeAnnouncements {
  readonly #announcements = new Map<string, Announcement>();
  /** Each model's speed as storage holds it, so a heartbeat decides whether to write without reading storage. */
  readonly #storedSpeeds = new Map<string, Map<string, number>>();

  constructor(private readonly storage: DurableObjectStorage) {}

  join(nodeId: string, announcement: Announcement): void {
    this.#store(nodeId, announcement);
    this.#announcements.set(nodeId, announcement);
  }

  /**
   * A heartbeat's measured speeds replace the announced ones, so the router
   * ranks nodes by what they do, not what they measured at load. Storage is
   * written only for a real change (see SPEED_WRITE_THRESHOLD); after the
   * object wakes, a slightly stale speed is harmless.
   */
  heartbeat(nodeId: string, heartbeat: Heartbeat): void {
    const announcement = this.get(nodeId);
    if (!announcement) return;
    const measured = new Map(heartbeat.models.map((m) => [m.id, m.tokensPerSecond]));
    // Compared with what storage holds, not memory: a slow drift in small steps still gets written.
    const storedSpeed = this.#storedSpeeds.get(nodeId);
    let changed = false;
    const models = announcement.models.map((model) => {
      const speed = measured.get(model.id);
      if (speed === undefined || speed === model.tokensPerSecond) return model;
      const was = storedSpeed?.get(model.id) ?? 0;
      changed ||= Math.abs(speed - was) > SPEED_WRITE_THRESHOLD * was;
      return { ...model, tokensPerSecond: speed };
    });
    const hardware =
      announcement.hardware && heartbeat.vramFreeBytes !== undefined
        ? { ...announcement.hardware, vramFreeBytes: heartbeat.vramFreeBytes }
        : announcement.hardware;
    const updated: Announcement = { ...announcement, models, ...(hardware ? { hardware } : {}) };
    this.#announcements.set(nodeId, updated);
    if (changed) this.#store(nodeId, updated);
  }

  /** In memory only: `restore` loads every stored announcement when the object starts. */
  get(nodeId: string): Announcement | undefined {
    return this.#announcements.get(nodeId);
  }

  forget(nodeId: string): void {
    this.storage.kv.delete(announcementKey(nodeId));
    this.#announcements.delete(nodeId);
    this.#storedSpeeds.delete(nodeId);
  }

  #store(nodeId: string, announcement: Announcement): void {
    this.storage.kv.put(announcementKey(nodeId), announcement);
    this.#storedSpeeds.set(nodeId, speedsOf(announcement));
  }

  /**
   * When the object starts: every stored announcement back into memory, then
   * those of nodes that are no longer here dropped, and returned. Sockets can
   * vanish without a close event (a deploy, an eviction, the edge restarting),
   * and every reconnect is a new node id, so without this storage would only
   * grow; the caller learns which models lost their nodes.
   */
  restore(isHere: (nodeId: string) => boolean): [nodeId: string, announcement: Announcement][] {
    for (const [key, announcement] of this.storage.kv.list<Announcement>({ prefix: ANNOUNCEMENT_PREFIX })) {
      const nodeId = key.slice(ANNOUNCEMENT_PREFIX.length);
      this.#announcements.set(nodeId, announcement);
      this.#storedSpeeds.set(nodeId, speedsOf(announcement));
    }
    const vanished = [...this.#announcements].filter(([nodeId]) => !isHere(nodeId));
    for (const [nodeId] of vanished) this.forget(nodeId);
    return vanished;
  }
}

function speedsOf(announcement: Announcement): Map<string, number> {
  return new Map(announcement.models.map((m) => [m.id, m.tokensPerSecond]));
}
