/** What `/health` listed at one moment; `nodes` is empty while the edge did not answer. */
interface Sighting {
  at: number;
  nodes: readonly string[];
}

/**
 * Polls an edge's `/health` with a key and remembers which nodes it listed
 * when, so a test can tell afterwards whether a node was connected around the
 * moment a request was refused. Times are `performance.now()`.
 */
export class NodeWatch {
  readonly #sightings: Sighting[] = [];
  #running = true;
  readonly #done: Promise<void>;

  constructor(
    edgeUrl: string,
    apiKey: string,
    private readonly intervalMs = 100,
  ) {
    this.#done = this.#poll(edgeUrl, apiKey);
  }

  /**
   * True when one node that `qualifies` was listed by every poll from `beforeMs`
   * before `at` to `afterMs` after it, with polls on both sides: it was connected
   * throughout, whatever the polls' timing.
   */
  connectedAround(at: number, qualifies: (name: string) => boolean, beforeMs = 1_000, afterMs = 300): boolean {
    const around = this.#sightings.filter((s) => s.at >= at - beforeMs && s.at <= at + afterMs);
    if (!around.some((s) => s.at < at) || !around.some((s) => s.at > at)) return false;
    const [first, ...rest] = around;
    return first!.nodes.filter(qualifies).some((name) => rest.every((s) => s.nodes.includes(name)));
  }

  /** Resolves, with the list, once a poll's list of nodes satisfies `condition`; throws after `timeoutMs`, saying `what` it waited for. */
  async until(condition: (nodes: readonly string[]) => boolean, timeoutMs: number, what: string): Promise<readonly string[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const nodes = this.#sightings.at(-1)?.nodes ?? [];
      if (condition(nodes)) return nodes;
      if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }

  /** The last polls, for a failure's message: when each was, and what it listed (nothing when `/health` did not answer in time). */
  recent(count = 5): string {
    return this.#sightings
      .slice(-count)
      .map((s) => `${(s.at / 1000).toFixed(1)} s: [${s.nodes.join(", ")}]`)
      .join("; ");
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  async #poll(edgeUrl: string, apiKey: string): Promise<void> {
    while (this.#running) {
      const nodes = await listedNodes(`${edgeUrl}/health`, apiKey, POLL_TIMEOUT_MS);
      this.#sightings.push({ at: performance.now(), nodes: nodes ?? [] });
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}

/** The longest one poll may take: a stalled answer counts as "nothing listed", and the watch goes on. */
const POLL_TIMEOUT_MS = 2_000;

/**
 * The nodes `/health` lists, or undefined when it did not answer in time. The
 * deadline is our own timer racing the fetch, not only the fetch's abort signal:
 * a request that stalled past its signal once froze the whole watch (every later
 * sighting missing, and `stop` waiting on it for good).
 */
async function listedNodes(url: string, apiKey: string, timeoutMs: number): Promise<string[] | undefined> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(undefined);
    }, timeoutMs);
  });
  const answer = fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: abort.signal })
    .then(async (response) => (response.ok ? ((await response.json()) as { nodes?: string[] }).nodes : undefined))
    .catch(() => undefined);
  try {
    return await Promise.race([answer, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
