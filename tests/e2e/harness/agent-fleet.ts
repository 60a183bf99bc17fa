import { AgentProcess } from "./agent-process.ts";

/**
 * Real rung-agent processes in named places (`a`, `b`, …), each serving the
 * same models, that a test kills with SIGKILL and restarts. Every restart is a
 * new process under a new name (`a.1`, `a.2`, …), so `/health` listing a name
 * means that very process joined, not a predecessor the edge has yet to drop.
 */
export class AgentFleet {
  readonly #current = new Map<string, AgentProcess>();
  readonly #all: AgentProcess[] = [];
  readonly #generation = new Map<string, number>();

  constructor(
    private readonly edge: string,
    private readonly models: readonly string[],
    readonly places: readonly string[],
  ) {
    for (const place of places) this.restart(place);
  }

  /** The name of the process now in `place`. */
  nameIn(place: string): string {
    const agent = this.#current.get(place);
    if (!agent) throw new Error(`no agent in ${place}`);
    return agent.options.name;
  }

  /** The names of the processes now in every place. */
  names(): string[] {
    return this.places.map((place) => this.nameIn(place));
  }

  /** What the processes now in every place printed, for a failure message. */
  output(): string {
    return this.places.map((place) => `${this.nameIn(place)}:\n${this.#current.get(place)!.output.join("")}`).join("\n");
  }

  /** Whether a node name is one of this fleet's agents, past or present. */
  owns(name: string): boolean {
    return this.#all.some((agent) => agent.options.name === name);
  }

  /** SIGKILL the process in `place`: no drain, no close handshake, as a machine that loses power. */
  kill(place: string): void {
    this.#current.get(place)?.signal("SIGKILL");
  }

  /** Starts a new process in `place` without waiting for it to join. */
  restart(place: string): string {
    const generation = this.#generation.get(place) ?? 0;
    this.#generation.set(place, generation + 1);
    const agent = new AgentProcess({ edge: this.edge, models: [...this.models], name: `${place}.${generation}` });
    this.#current.set(place, agent);
    this.#all.push(agent);
    return agent.options.name;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all.map((agent) => agent.stop()));
  }
}
