/**
 * Jobs the edge runs per node and model, for every transport (upstreams too,
 * which have no socket). In memory only: jobs never outlive the object, so
 * neither do their counts.
 */
export class SlotCounts {
  /** Jobs running per node, and per node and model. */
  readonly #active = new Map<string, Map<string, number>>();

  take(nodeId: string, modelId: string): void {
    const byModel = this.#active.get(nodeId) ?? new Map<string, number>();
    byModel.set(modelId, (byModel.get(modelId) ?? 0) + 1);
    this.#active.set(nodeId, byModel);
  }

  release(nodeId: string, modelId: string): void {
    const byModel = this.#active.get(nodeId);
    const left = (byModel?.get(modelId) ?? 1) - 1;
    if (left > 0) byModel?.set(modelId, left);
    else byModel?.delete(modelId);
    if (byModel?.size === 0) this.#active.delete(nodeId);
  }

  /** Jobs running on the node, all models together. */
  active(nodeId: string): number {
    let total = 0;
    for (const count of this.#active.get(nodeId)?.values() ?? []) total += count;
    return total;
  }

  /** Jobs running on the node per model. */
  activeByModel(nodeId: string): Record<string, number> {
    return Object.fromEntries(this.#active.get(nodeId) ?? []);
  }

  /** The node left: its counts go with it. */
  forget(nodeId: string): void {
    this.#active.delete(nodeId);
  }
}
