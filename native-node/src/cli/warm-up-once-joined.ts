import type { Logger } from "../log/logger.ts";

/** An engine with work left after loading that serving can do without for a moment (LlamaCppEngine.warmUp). */
export interface WarmUp {
  /** Resolves with each model's measured tokens/s, which the engine then announces. */
  warmUp(): Promise<ReadonlyMap<string, number>>;
}

/** What the warm-up needs of the agent's link (AgentLink). */
export interface JoiningLink {
  /** Resolves when the node first joined. */
  readonly joined: Promise<void>;
  /** Sends the engine's new figures to the edge now. */
  heartbeatNow(): void;
}

/**
 * The engine's warm-up (chat templates, speed probe), run once the node has
 * joined rather than before: it held the join back, on a busy CPU most of all
 * (docs/benchmarks.md, "How fast an agent joins"), and the edge ranks a model
 * of unknown speed (0) as one of median speed, so the node serves meanwhile.
 * Not while joining either: its CPU work would delay the hello and the welcome.
 * The measured speeds follow in a heartbeat sent as soon as they are known.
 */
export async function warmUpOnceJoined(engine: WarmUp, link: JoiningLink, log: Logger): Promise<void> {
  await link.joined;
  try {
    const speeds = await engine.warmUp();
    for (const [id, tokensPerSecond] of speeds) {
      log.info(tokensPerSecond > 0 ? `${id}: measured ${tokensPerSecond} tok/s` : `${id}: measured no speed (its answer ended at once)`);
    }
    if (speeds.size > 0) link.heartbeatNow();
  } catch (error) {
    // The node serves on without it: the edge ranks it by the speed its jobs show.
    log.warn(`could not measure decoding speed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
