/** Jobs one node runs: all models together, and per model. */
interface NodeLoad {
  total: number;
  byModel: Record<string, number>;
}

const NO_JOBS: Readonly<Record<string, number>> = Object.freeze({});

/**
 * Jobs the edge runs per node and model, for every transport (upstreams too,
 * which have no socket). In memory only: jobs never outlive the object, so
 * neither do their counts. Reads are O(1) and allocate nothing, because every
 * node view reads them on every routing decision.
 */
export class SlotCounts {
  readonly #loads = new Map<string, NodeLoad>();

  take(nodeId: string, modelId: string): void {
    let load = this.#loads.get(nodeId);
    if (!load) {
      load = { total: 0, byModel: {} };
      this.#loads.set(nodeId, load);
    }
    load.total += 1;
    load.byModel[modelId] = (load.byModel[modelId] ?? 0) + 1;
  }

  release(nodeId: string, modelId: string): void {
    const load = this.#loads.get(nodeId);
    const left = load?.byModel[modelId];
    if (!load || left === undefined) return;
    load.total -= 1;
    if (left > 1) load.byModel[modelId] = left - 1;
    else delete load.byModel[modelId];
    if (load.total === 0) this.#loads.delete(nodeId);
  }

  /** Jobs running on the node, all models together. */
  active(nodeId: string): number {
    return this.#loads.get(nodeId)?.total ?? 0;
  }

  /** Jobs running on the node per model: a live record, not a copy; read it, never keep it. */
  activeByModel(nodeId: string): Readonly<Record<string, number>> {
    return this.#loads.get(nodeId)?.byModel ?? NO_JOBS;
  }

  /** The node left: its counts go with it. */
  forget(nodeId: string): void {
    this.#loads.delete(nodeId);
  }
}
