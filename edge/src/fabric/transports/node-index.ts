import type { NodeView } from "@rung/shared/routing";

/**
 * A transport's node views, in the order they joined, and by the models they
 * announced: routing a request for one model reads only that model's nodes,
 * so a pool's idle nodes of other models cost a request nothing. The lists
 * are built on the first read after a change and shared until the next one.
 */
export class NodeIndex {
  /** Each view with the model ids it was filed under (a view's models may be gone by the time it is removed). */
  readonly #views = new Map<NodeView, readonly string[]>();
  readonly #byModel = new Map<string, Set<NodeView>>();
  #all: readonly NodeView[] | undefined;
  readonly #lists = new Map<string, readonly NodeView[]>();

  add(view: NodeView): void {
    const modelIds = view.models.map((m) => m.id);
    this.#views.set(view, modelIds);
    for (const modelId of modelIds) {
      const views = this.#byModel.get(modelId) ?? new Set();
      views.add(view);
      this.#byModel.set(modelId, views);
    }
    this.#changed(modelIds);
  }

  remove(view: NodeView): void {
    const modelIds = this.#views.get(view);
    if (!modelIds) return;
    this.#views.delete(view);
    for (const modelId of modelIds) {
      const views = this.#byModel.get(modelId);
      views?.delete(view);
      if (views?.size === 0) this.#byModel.delete(modelId);
    }
    this.#changed(modelIds);
  }

  /** Every view, or those that announced `modelId`; the caller must not change the list. */
  views(modelId?: string): readonly NodeView[] {
    if (modelId === undefined) {
      this.#all ??= [...this.#views.keys()];
      return this.#all;
    }
    let list = this.#lists.get(modelId);
    if (!list) {
      list = [...(this.#byModel.get(modelId) ?? [])];
      this.#lists.set(modelId, list);
    }
    return list;
  }

  #changed(modelIds: readonly string[]): void {
    this.#all = undefined;
    for (const modelId of modelIds) this.#lists.delete(modelId);
  }
}
