import { basename } from "node:path";
import type { RungTrace } from "@rung/shared/openai";
import OpenAI from "openai";
import { ensureTestModel } from "../../../tools/gguf/make-test-model.ts";
import type { TestModelPreset } from "../../../tools/gguf/test-model-presets.ts";
import { AgentProcess } from "./agent-process.ts";
import { type LocalEdge, startLocalEdge } from "./local-edge.ts";
import { modelCache } from "./paths.ts";

/** A generated test model in the repo's model cache (made once, reused): its path. */
export function testModel(preset: TestModelPreset): Promise<string> {
  return ensureTestModel(preset, modelCache);
}

export interface FabricAgent {
  name: string;
  /** Model files to serve. */
  models: string[];
  /** The model ids the edge must offer before the agent counts as joined. Default: the files' names without `.gguf`. */
  serves?: string[];
  extraArgs?: string[];
  /** The URL the agent dials, e.g. a proxy in front of the edge. Default: the edge's own. */
  edge?: string;
}

export interface FabricOptions {
  /** Vars for the edge, overriding wrangler.toml's (e.g. `RUNG_POLICY`, `RUNG_API_KEYS`). */
  vars?: Record<string, string>;
  /** Agents started with the edge; `startFabric` returns once every one has joined. */
  agents?: FabricAgent[];
  /** The key of `client` and `status()`. Default: one an edge without `RUNG_API_KEYS` takes. */
  apiKey?: string;
}

/** Every model entry of `GET /v1/status` with each node's load and breaker, plus the router's counters. */
export interface FabricStatus {
  catalog: {
    id: string;
    nodes: { id: string; name: string; active: number; draining: boolean; breaker: "closed" | "open" | "half_open" }[];
  }[];
  breakers: { nodeId: string; modelId: string; state: string; consecutiveFailures: number; retryAt: number | null }[];
  queued: number;
  inFlight: number;
}

/** A local edge with its agents and an openai client that does not retry on its own. */
export interface LocalFabric {
  edge: LocalEdge;
  /** The edge's base URL. */
  url: string;
  client: OpenAI;
  /** Every agent started so far, in order. */
  agents: AgentProcess[];
  /** The agent of this name; throws when there is none. */
  agent(name: string): AgentProcess;
  /** Starts one more agent (stopped with the fabric) without waiting for it to join: it may be meant to fail. */
  start(agent: FabricAgent): AgentProcess;
  /** Starts one more agent and waits until it has joined with its models. */
  join(agent: FabricAgent): Promise<AgentProcess>;
  status(): Promise<FabricStatus>;
  /** Ends every agent, then the edge; also after a start that failed half-way. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const servedIds = (agent: FabricAgent) => agent.serves ?? agent.models.map((path) => basename(path, ".gguf"));

/**
 * Starts an edge (with these vars) and real rung-agent processes, and waits
 * until each has joined with its models: the setup of every end-to-end test.
 */
export async function startFabric(options: FabricOptions = {}): Promise<LocalFabric> {
  const edge = await startLocalEdge(options.vars);
  const apiKey = options.apiKey ?? "not-needed-locally";
  const agents: AgentProcess[] = [];
  const start = (agent: FabricAgent) => {
    const started = new AgentProcess({
      edge: agent.edge ?? edge.url,
      name: agent.name,
      models: agent.models,
      apiKey,
      ...(agent.extraArgs && { extraArgs: agent.extraArgs }),
    });
    agents.push(started);
    return started;
  };
  const join = async (agent: FabricAgent) => {
    const started = start(agent);
    await started.joined(servedIds(agent));
    return started;
  };
  const stop = async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await edge.dispose();
  };
  try {
    await Promise.all((options.agents ?? []).map(join));
  } catch (error) {
    await stop();
    throw error;
  }
  const status = async () => {
    const response = await fetch(`${edge.url}/v1/status`, { headers: { authorization: `Bearer ${apiKey}` } });
    if (!response.ok) throw new Error(`GET /v1/status answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as FabricStatus;
  };
  const agent = (name: string) => {
    const found = agents.find((a) => a.options.name === name);
    if (!found) throw new Error(`no agent named ${name}`);
    return found;
  };
  return {
    edge,
    url: edge.url,
    client: new OpenAI({ baseURL: `${edge.url}/v1`, apiKey, maxRetries: 0 }),
    agents,
    agent,
    start,
    join,
    status,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The `rung` explanation the edge adds to a JSON body or the stream's usage chunk. */
export function rungOf(body: unknown): RungTrace {
  const rung = (body as { rung?: RungTrace }).rung;
  if (!rung) throw new Error(`no rung trace in ${JSON.stringify(body)}`);
  return rung;
}

/** `model:node:outcome` of each attempt, for compact assertions. */
export function attemptsOf(rung: RungTrace): string[] {
  return rung.attempts.map((a) => `${a.model}:${a.node}:${a.outcome}`);
}

/** The node (by name) serving a model, as `/v1/status` shows it. */
export function nodeOf(status: FabricStatus, modelId: string, nodeName: string) {
  return status.catalog.find((m) => m.id === modelId)?.nodes.find((n) => n.name === nodeName);
}

/** The breaker state `/v1/status` shows for a node (by name) serving a model. */
export function breakerOf(status: FabricStatus, modelId: string, nodeName: string): string | undefined {
  return nodeOf(status, modelId, nodeName)?.breaker;
}
