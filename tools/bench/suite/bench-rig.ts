import { join } from "node:path";
import { repoRoot } from "../../../tests/e2e/harness/paths.ts";
import { startJoinedAgent } from "../harness/joined-agent.ts";
import { startMockOpenAi } from "../harness/mock-openai.ts";
import { startPortkey } from "../harness/portkey-gateway.ts";
import type { ChatTarget } from "../harness/timed-request.ts";
import { startWorkerdBundle } from "../harness/workerd-bundle.ts";

/** The model the instant node (the echo agent) serves on both edges. */
export const INSTANT_MODEL = "instant";
/** The mock OpenAI server's model: Rung's upstream rung, and what Portkey asks for. */
export const UPSTREAM_MODEL = "mock-upstream";
/** More than the largest concurrency, so slots never limit a figure. */
const AGENT_SLOTS = 256;
/** The admin key of Rung's edge under test, to make a client key with limits. */
const ADMIN_KEY = "bench-admin-key";

/** An edge under test: the floor or Rung's, in its own workerd process, with the echo agent joined. */
export interface Edge {
  label: "floor" | "Rung";
  url: string;
  /** The workerd process, for CPU time and memory; undefined when it could not be told apart. */
  pid: number | undefined;
}

/**
 * The servers the sections measure, each started when a section first needs it and then
 * shared, so a run of several sections starts each once. Disposed in reverse order.
 */
export class BenchRig {
  readonly #cleanups: (() => Promise<void>)[] = [];

  readonly mock = this.#once(async () => {
    const mock = await startMockOpenAi();
    this.#cleanups.push(mock.dispose);
    return mock;
  });

  readonly portkey = this.#once(async (): Promise<ChatTarget> => {
    const gateway = await startPortkey((await this.mock()).url);
    this.#cleanups.push(gateway.dispose);
    return gateway.target;
  });

  /** Both edges, floor first, each with its echo agent. */
  readonly edges = this.#once(async (): Promise<Edge[]> => {
    // Rung's policy makes the mock an upstream rung, so one edge serves both the node and the upstream rows.
    const upstreams = [
      { name: "mock", baseUrl: `${(await this.mock()).url}/v1`, models: [{ id: UPSTREAM_MODEL, parameters: 1e9, contextLength: 32_768 }] },
    ];
    return [
      await this.#edge("floor", join(repoRoot, "tools", "bench", "floor", "wrangler.toml"), {}),
      // RUNG_EDGE_CONFIG: another checkout's wrangler.toml, to measure it against the same floor and harness.
      await this.#edge("Rung", process.env.RUNG_EDGE_CONFIG ?? join(repoRoot, "wrangler.toml"), {
        RUNG_POLICY: JSON.stringify({ upstreams }),
        RUNG_ADMIN_KEY: ADMIN_KEY,
      }),
    ];
  });

  /**
   * A key made with Rung's admin API, with limits far above what the bench sends: what a
   * closed edge's client pays per request (the key store's lookup, admission, headers).
   * Undefined for an edge without the key API (RUNG_EDGE_CONFIG naming an older checkout).
   */
  readonly rungKey = this.#once(async (): Promise<ChatTarget | undefined> => {
    const rung = (await this.edges())[1]!;
    const response = await fetch(`${rung.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench", rpm: 1_000_000, tpm: 1_000_000_000, concurrency: 10_000 }),
    });
    if (response.status !== 201) return undefined;
    const { key } = (await response.json()) as { key: string };
    return { url: rung.url, headers: { authorization: `Bearer ${key}` } };
  });

  async dispose(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) await cleanup().catch((error) => console.error(`cleanup failed: ${error}`));
  }

  async #edge(label: Edge["label"], config: string, vars: Record<string, string>): Promise<Edge> {
    const bundle = await startWorkerdBundle(config, { vars });
    this.#cleanups.push(bundle.dispose);
    // The instant node: Rung's own agent with its echo engine, answering max_tokens tokens at once.
    const agent = await startJoinedAgent(bundle.url, `echo:${INSTANT_MODEL}`, INSTANT_MODEL, ["--slots", String(AGENT_SLOTS)]);
    this.#cleanups.push(agent.stop);
    return { label, url: bundle.url, pid: bundle.pid };
  }

  #once<T>(start: () => Promise<T>): () => Promise<T> {
    let started: Promise<T> | undefined;
    return () => (started ??= start());
  }
}
