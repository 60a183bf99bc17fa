import type { ModelInfo } from "../protocol/messages.ts";

/** What the router needs to know about one connected node. */
export interface NodeView {
  id: string;
  name: string;
  slots: number;
  /** Jobs the edge has running on the node now. */
  active: number;
  /** The same, per model id: a model's own slots cap its jobs too. */
  activeByModel: Readonly<Record<string, number>>;
  /** A draining node finishes its jobs but takes no new ones. */
  draining: boolean;
  models: readonly ModelInfo[];
}

export interface LadderRequest {
  /** `auto`, or a concrete model id that pins the model. */
  model: string;
  /** Estimated prompt tokens (see estimateTokens). */
  promptTokens: number;
  /** Tokens the client asked for at most; undefined lets the node use the rest of its context. */
  maxTokens: number | undefined;
}

export interface Candidate {
  model: ModelInfo;
  nodeId: string;
}

export type PlanRefusal = {
  ok: false;
  status: 400 | 404 | 429 | 503;
  code: string;
  message: string;
};
export type Plan = { ok: true; candidates: Candidate[] } | PlanRefusal;

export const AUTO_MODEL = "auto";

/**
 * Orders the (model, node) pairs a request may run on: models smallest first
 * by parameter count, skipping those whose context cannot hold the request;
 * within a model, the least loaded node first, faster nodes breaking ties.
 * A concrete model id pins that model: no climbing, only other nodes of it.
 */
export function planLadder(request: LadderRequest, nodes: readonly NodeView[]): Plan {
  const pinned = request.model !== AUTO_MODEL;
  const models = catalogModels(nodes);
  if (pinned && !models.has(request.model)) {
    return refuse(404, "model_not_found", `The model '${request.model}' does not exist or no node serves it.`);
  }
  const wanted = [...models.values()].filter((m) => !pinned || m.id === request.model);
  if (wanted.length === 0) {
    return refuse(503, "no_capable_node", "No node is connected to serve this request. Try again once a node has joined.");
  }

  const needed = request.promptTokens + (request.maxTokens ?? 1);
  const fitting = wanted.filter((m) => m.contextLength >= needed);
  if (fitting.length === 0) {
    const largest = Math.max(...wanted.map((m) => m.contextLength));
    return refuse(
      400,
      "context_length_exceeded",
      `This request needs about ${needed} tokens (prompt plus max_tokens), but the largest context available is ${largest} tokens.`,
    );
  }

  fitting.sort((a, b) => a.parameters - b.parameters || a.id.localeCompare(b.id));
  const candidates: Candidate[] = [];
  let saturated = false;
  for (const { id } of fitting) {
    // Nodes size their own contexts: only those whose context for this model holds the request.
    const serving = nodes.filter((n) => !n.draining && (modelOn(n, id)?.contextLength ?? 0) >= needed);
    const free = serving.filter((n) => hasFreeSlot(n, id));
    saturated ||= serving.length > free.length;
    free.sort((a, b) => loadOf(a, id) - loadOf(b, id) || speedOf(b, id) - speedOf(a, id));
    for (const node of free) candidates.push({ model: modelOn(node, id)!, nodeId: node.id });
  }
  if (candidates.length > 0) return { ok: true, candidates };
  if (saturated) return refuse(429, "nodes_busy", "Every node that can serve this request is busy. Retry shortly.");
  return refuse(503, "no_capable_node", "The nodes that serve this model are shutting down. Try again shortly.");
}

/** One entry per model id across nodes; draining nodes still count, so their models are not 'unknown'. */
export function catalogModels(nodes: readonly NodeView[]): Map<string, ModelInfo> {
  const models = new Map<string, ModelInfo>();
  for (const node of nodes) {
    for (const model of node.models) {
      const known = models.get(model.id);
      // Nodes may allocate different contexts for one model; the largest is what the ladder can offer.
      if (!known || model.contextLength > known.contextLength) models.set(model.id, model);
    }
  }
  return models;
}

function modelOn(node: NodeView, modelId: string): ModelInfo | undefined {
  return node.models.find((m) => m.id === modelId);
}

/** Whether the node can start one more job of this model now: below its own cap and the model's. */
export function hasFreeSlot(node: NodeView, modelId: string): boolean {
  const model = modelOn(node, modelId);
  if (!model || node.draining) return false;
  return node.active < node.slots && (node.activeByModel[modelId] ?? 0) < model.slots;
}

/** How full the node is for this model: the busier of its own share and the node as a whole. */
function loadOf(node: NodeView, modelId: string): number {
  const modelLoad = (node.activeByModel[modelId] ?? 0) / modelOn(node, modelId)!.slots;
  return Math.max(modelLoad, node.active / node.slots);
}

function speedOf(node: NodeView, modelId: string): number {
  return modelOn(node, modelId)?.tokensPerSecond ?? 0;
}

function refuse(status: PlanRefusal["status"], code: string, message: string): PlanRefusal {
  return { ok: false, status, code, message };
}
