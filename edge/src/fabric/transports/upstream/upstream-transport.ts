import type { Job } from "@rung/shared/protocol";
import type { NodeView } from "@rung/shared/routing";
import type { Transport, TransportContext } from "../transport.ts";
import { UpstreamDispatcher } from "./upstream-dispatcher.ts";
import { type UpstreamEntry, upstreamNodesOf, upstreamOf } from "./upstream-nodes.ts";

/**
 * The operator's OpenAI-compatible upstream APIs from the policy, each one a
 * node to the router: one streamed POST per job, whose server-sent events are
 * read back into the frames a node would send.
 */
export class UpstreamTransport implements Transport {
  readonly #dispatcher: UpstreamDispatcher;
  /** Views of the current policy's upstreams: made again only when the policy is replaced. */
  #views: { upstreams: readonly UpstreamEntry[]; all: readonly NodeView[] } | undefined;

  constructor(private readonly context: TransportContext) {
    this.#dispatcher = new UpstreamDispatcher(context.host, context.env);
  }

  owns(nodeId: string): boolean {
    return this.#upstreamOf(nodeId) !== undefined;
  }

  /** Upstreams have no socket; the edge's own count of the jobs it runs there is their load. */
  views(modelId?: string): readonly NodeView[] {
    const upstreams = this.context.policy().upstreams;
    if (this.#views?.upstreams !== upstreams) this.#views = { upstreams, all: upstreamNodesOf(upstreams, this.context.slots) };
    const all = this.#views.all;
    return modelId === undefined || all.length === 0 ? all : all.filter((view) => view.models.some((m) => m.id === modelId));
  }

  view(nodeId: string): NodeView | undefined {
    return this.views().find((view) => view.id === nodeId);
  }

  send(nodeId: string, job: Job): boolean {
    const upstream = this.#upstreamOf(nodeId);
    if (!upstream) return false;
    this.#dispatcher.send(nodeId, upstream, job);
    return true;
  }

  cancel(_nodeId: string, jobId: string): boolean {
    return this.#dispatcher.cancel(jobId);
  }

  nameOf(nodeId: string): string | undefined {
    return this.#upstreamOf(nodeId)?.name;
  }

  #upstreamOf(nodeId: string): UpstreamEntry | undefined {
    return upstreamOf(this.context.policy().upstreams, nodeId);
  }
}
