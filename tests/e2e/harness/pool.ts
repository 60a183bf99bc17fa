import type { RungTrace } from "@rung/shared/openai";
import OpenAI from "openai";
import { AgentProcess } from "./agent-process.ts";
import { type LocalEdge, startLocalEdge } from "./local-edge.ts";

export interface PoolAgent {
  name: string;
  /** Model files to serve. */
  models: string[];
  /** The model ids the edge must offer before the agent counts as joined. */
  serves: string[];
  extraArgs?: string[];
}

/** A local edge with its agents joined and an openai client that does not retry on its own. */
export interface Pool {
  edge: LocalEdge;
  client: OpenAI;
  agents: AgentProcess[];
  /** Every model entry of `GET /v1/status` with each node's breaker, plus the router's counters. */
  status(): Promise<PoolStatus>;
  stop(): Promise<void>;
}

export interface PoolStatus {
  catalog: { id: string; nodes: { name: string; breaker: "closed" | "open" | "half_open" }[] }[];
  breakers: { nodeId: string; modelId: string; state: string; consecutiveFailures: number; retryAt: number | null }[];
  queued: number;
  inFlight: number;
}

/**
 * Starts an edge (with these vars, e.g. `RUNG_POLICY`) and real rung-agent
 * processes, and waits until each has joined with its models. `stop` ends
 * what started, also when the start failed half-way.
 */
export async function startPool(vars: Record<string, string>, agents: PoolAgent[]): Promise<Pool> {
  const edge = await startLocalEdge(vars);
  const processes = agents.map(
    (a) => new AgentProcess({ edge: edge.url, name: a.name, models: a.models, ...(a.extraArgs && { extraArgs: a.extraArgs }) }),
  );
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await edge.dispose();
  };
  try {
    await Promise.all(processes.map((p, i) => p.joined(agents[i]!.serves)));
  } catch (error) {
    await stop();
    throw error;
  }
  const client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "not-needed-locally", maxRetries: 0 });
  const status = async () => {
    const response = await fetch(`${edge.url}/v1/status`);
    if (!response.ok) throw new Error(`GET /v1/status answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as PoolStatus;
  };
  return { edge, client, agents: processes, status, stop };
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

/** The breaker state `/v1/status` shows for a node (by name) serving a model. */
export function breakerOf(status: PoolStatus, modelId: string, nodeName: string): string | undefined {
  return status.catalog.find((m) => m.id === modelId)?.nodes.find((n) => n.name === nodeName)?.breaker;
}
