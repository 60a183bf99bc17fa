import type { ModelInfo } from "../protocol/messages.ts";
import { buildCatalog, type CatalogEntry, type CatalogNode } from "./catalog.ts";
import { type EffectiveEscalation, effectiveEscalation } from "./escalation.ts";
import type { NodeView } from "./node-view.ts";
import type { Policy } from "./policy.ts";
import { preRoute } from "./pre-route.ts";
import { PROFILE_NAMES, type ProfileName } from "./profile-names.ts";
import { startRung } from "./profiles.ts";

export interface LadderRequest {
  /** `auto`, `auto:<profile>`, or a concrete model id that pins the model. */
  model: string;
  /** Estimated prompt tokens (see estimateTokens). */
  promptTokens: number;
  /** Tokens the client asked for at most; undefined lets the node use the rest of its context. */
  maxTokens: number | undefined;
  /** Capabilities the answer depends on: `response_format` and `tools`. */
  needs: { jsonSchema: boolean; tools: boolean };
  /** The prompt's texts, read by pre-routing. */
  texts: readonly string[];
  /** The body's `rung` field: a confidence threshold, the highest rung, or no climbing at all. */
  override?: { minConfidence?: number; maxRung?: string; escalate?: boolean };
}

/** One model the request may run on, with the nodes that can take it. */
export interface RungPlan {
  model: Omit<CatalogEntry, "nodes">;
  /** Nodes serving the model that hold the request's context, have the capabilities and are not draining. */
  nodeIds: string[];
}

export type PlanRefusal = {
  ok: false;
  status: 400 | 404 | 503;
  code: string;
  message: string;
};

export type LadderPlan = {
  ok: true;
  /** Ascending by quality score; parameter count, then id, break ties. */
  rungs: RungPlan[];
  /** Where the request starts; climbs go only upward, rungs below are fallbacks for errors. */
  startIndex: number;
  /** A concrete model id: one rung, no climbing. */
  pinned: boolean;
  /** The profile that chose the start; undefined when pinned. */
  profile: ProfileName | undefined;
  escalation: EffectiveEscalation;
  /** Why pre-routing raised the start rung; empty when it did not. */
  preRouted: string[];
};

export type Plan = LadderPlan | PlanRefusal;

export const AUTO_MODEL = "auto";
const AUTO_PREFIX = `${AUTO_MODEL}:`;

/** Whether `model` names one model (and pins the request to it) rather than `auto` or `auto:<profile>`. */
export function isModelId(model: string): boolean {
  return model !== AUTO_MODEL && !model.startsWith(AUTO_PREFIX);
}

const CAPABILITY_WORDS = { jsonSchema: "structured output (response_format)", tools: "function calling (tools)" } as const;

/**
 * Plans the ladder for one request: which models it may run on and where it starts.
 * Node choice within a rung is pickNode's; the queue handles busy nodes.
 */
export function planLadder(request: LadderRequest, nodes: readonly NodeView[], policy: Policy): Plan {
  const catalog = buildCatalog(nodes, policy).sort(ladderOrder);
  const target = resolveModel(request.model, policy, catalog);
  if (!target.ok) return target;
  const { profile, pinned } = target;

  let wanted = pinned ? catalog.filter((e) => e.id === request.model) : catalog;
  if (!pinned && request.override?.maxRung !== undefined) {
    const ceiling = catalog.find((e) => e.id === request.override?.maxRung);
    if (!ceiling) return refuse(404, "model_not_found", `The highest rung '${request.override.maxRung}' is not a model any node serves.`);
    wanted = wanted.filter((e) => ladderOrder(e, ceiling) <= 0);
  }
  if (wanted.length === 0) {
    return refuse(503, "no_capable_node", "No node is connected to serve this request. Try again once a node has joined.");
  }

  const needed = request.promptTokens + (request.maxTokens ?? 1);
  const fitting = wanted.filter((e) => e.contextLength >= needed);
  if (fitting.length === 0) {
    const largest = Math.max(...wanted.map((e) => e.contextLength));
    return refuse(
      400,
      "context_length_exceeded",
      `This request needs about ${needed} tokens (prompt plus max_tokens), but the largest context available is ${largest} tokens.`,
    );
  }

  const fits = (n: CatalogNode) => n.contextLength >= needed && hasNeeds(n, request.needs);
  if (!fitting.some((e) => e.nodes.some(fits))) {
    const what = describeNeeds(request.needs, fitting, needed);
    return pinned
      ? refuse(400, "capability_unsupported", `The model '${request.model}' does not support ${what} on any connected node.`)
      : refuse(503, "no_capable_node", `No connected model supports ${what} for this request. Try again once such a node has joined.`);
  }

  const rungs: RungPlan[] = [];
  const ready: CatalogEntry[] = [];
  for (const entry of fitting) {
    const usable = entry.nodes.filter((n) => !n.draining && fits(n));
    if (usable.length === 0) continue;
    const { nodes: _all, ...model } = entry;
    rungs.push({ model, nodeIds: usable.map((n) => n.id) });
    ready.push({ ...entry, nodes: usable });
  }
  if (rungs.length === 0) {
    return refuse(503, "no_capable_node", "The nodes that serve this request are shutting down. Try again shortly.");
  }

  const escalation = effectiveEscalation(policy, profile, request.override);
  if (pinned || profile === undefined) {
    return {
      ok: true,
      rungs,
      startIndex: 0,
      pinned: true,
      profile: undefined,
      escalation: { ...escalation, enabled: false },
      preRouted: [],
    };
  }
  let startIndex = startRung(ready, policy.profiles[profile], request);
  const preRouted = request.override?.escalate === false ? [] : preRoute(request.texts, request.promptTokens, policy.preRouting);
  if (preRouted.length > 0) startIndex = Math.min(startIndex + policy.preRouting.rungsUp, rungs.length - 1);
  return { ok: true, rungs, startIndex, pinned: false, profile, escalation, preRouted };
}

type Resolved = { ok: true; pinned: true; profile: undefined } | { ok: true; pinned: false; profile: ProfileName } | PlanRefusal;

function resolveModel(model: string, policy: Policy, catalog: readonly CatalogEntry[]): Resolved {
  if (model === AUTO_MODEL) return { ok: true, pinned: false, profile: policy.defaultProfile };
  if (!isModelId(model)) {
    const name = model.slice(AUTO_PREFIX.length);
    if (isProfileName(name)) return { ok: true, pinned: false, profile: name };
    const valid = [AUTO_MODEL, ...PROFILE_NAMES.map((p) => `${AUTO_PREFIX}${p}`)].join(", ");
    return refuse(404, "model_not_found", `The model '${model}' does not exist: '${name}' is not a profile. Valid: ${valid}.`);
  }
  if (!catalog.some((e) => e.id === model)) {
    return refuse(404, "model_not_found", `The model '${model}' does not exist or no node serves it.`);
  }
  return { ok: true, pinned: true, profile: undefined };
}

function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** Ladder order: weaker first by quality score, then smaller, then by id so the order is stable. */
function ladderOrder(a: CatalogEntry, b: CatalogEntry): number {
  return a.quality.score - b.quality.score || a.parameters - b.parameters || a.id.localeCompare(b.id);
}

type Need = keyof LadderRequest["needs"];
const NEEDS: readonly Need[] = ["jsonSchema", "tools"];

/** The needed capabilities no node holding the context has; all of them "together" when each exists but on different nodes. */
function describeNeeds(needs: LadderRequest["needs"], entries: readonly CatalogEntry[], needed: number): string {
  const wanted = NEEDS.filter((need) => needs[need]);
  const missing = wanted.filter((need) => !entries.some((e) => e.nodes.some((n) => n.contextLength >= needed && n.capabilities[need])));
  if (missing.length > 0) return missing.map((m) => CAPABILITY_WORDS[m]).join(" and ");
  return `${wanted.map((m) => CAPABILITY_WORDS[m]).join(" and ")} together`;
}

function hasNeeds(node: CatalogNode, needs: LadderRequest["needs"]): boolean {
  return (!needs.jsonSchema || node.capabilities.jsonSchema) && (!needs.tools || node.capabilities.tools);
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

function refuse(status: PlanRefusal["status"], code: string, message: string): PlanRefusal {
  return { ok: false, status, code, message };
}
