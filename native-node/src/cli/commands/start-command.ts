import { constants } from "node:os";
import type { InferenceEngine } from "@rung/shared/node";
import { NodeKind } from "@rung/shared/protocol";
import { createEchoEngine, isEchoModel } from "../../engines/create-echo-engine.ts";
import { FaultInjectingEngine } from "../../engines/fault-injecting-engine.ts";
import { LlamaCppEngine } from "../../engines/llama-cpp-engine.ts";
import { ModelLoadError } from "../../engines/model-load-error.ts";
import { AgentLink } from "../../link/agent-link.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import type { Command } from "../command.ts";
import { configUsage } from "../config-usage.ts";
import { describeModel } from "../describe-model.ts";
import { parseStartOptions, type StartOptions } from "../start-options.ts";
import { waitForSignal } from "../wait-for-signal.ts";
import { warmUpOnceJoined } from "../warm-up-once-joined.ts";

export const startUsage = `Usage: rung-agent [start] --edge <url> --model <path|hf:uri|echo:id> [options]

Serve local GGUF models to a Rung edge. The agent dials out over a WebSocket
(no inbound ports) and reconnects by itself, or, when it cannot hold one (a proxy
strips the upgrade, the socket keeps dropping), over the tunnel transport
(see --transport).

${configUsage}
  -h, --help             Show this help.

Example:
  rung-agent --edge http://127.0.0.1:8787 --model ./qwen2.5-0.5b-instruct-q4_k_m.gguf --threads 2`;

/** Load the models, join the edge, warm the models up while serving, serve until a signal, then drain and leave. */
export const startCommand: Command = {
  name: "start",
  summary: "serve models to an edge (the default command)",
  usage: startUsage,
  async run(args) {
    const options = parseStartOptions(args);
    if (options === "help") {
      process.stdout.write(`${startUsage}\n`);
      return 0;
    }
    const log = createLogger({ format: options.logFormat });
    const engine = await loadEngine(options, log);
    if (!engine) return 1;
    for (const model of engine.models) log.info(`serving ${describeModel(model)}`);

    const { firstTokenDelayMs, failJobs } = options.faults;
    if (firstTokenDelayMs > 0 || failJobs > 0)
      log.warn(`fault injection on (a testing aid): first token delayed ${firstTokenDelayMs} ms, first ${failJobs} job(s) fail`);
    const link = new AgentLink({
      edge: options.edge,
      token: options.token,
      pool: options.pool,
      engine: firstTokenDelayMs > 0 || failJobs > 0 ? new FaultInjectingEngine(engine, options.faults) : engine,
      identity: { name: options.name, kind: NodeKind.native },
      logger: log,
      transport: options.transport,
      publicUrl: options.publicUrl,
      tunnelPort: options.tunnelPort,
    });
    if (engine instanceof LlamaCppEngine) void warmUpOnceJoined(engine, link, log);
    const signal = waitForSignal(["SIGINT", "SIGTERM"], (again) => {
      log.warn(`${again} again: exiting without waiting for jobs`);
      process.exit(128 + constants.signals[again]);
    });
    const outcome = await Promise.race([link.ended, signal]);

    if (typeof outcome === "string") {
      log.info(`${outcome}: draining, waiting up to ${options.drainTimeoutMs / 1000}s for ${link.session.activeJobs} running job(s)`);
      await link.session.drain(options.drainTimeoutMs);
    }
    await link.close();
    // Abort whatever still runs (a fatal end skips the drain) and let it unwind before its model is freed.
    await link.session.drain(0);
    await engine.dispose();
    if (typeof outcome !== "string" && outcome.reason === "fatal") return 1;
    log.info("stopped");
    return 0;
  },
};

/** The engine for the configured models, or undefined (said in the log) when a model cannot be served. */
async function loadEngine(options: StartOptions, log: Logger): Promise<InferenceEngine | undefined> {
  // The config refuses a mix, so one echo model means all of them are.
  if (options.models.some((m) => isEchoModel(m.path))) {
    log.warn("echo models (a benchmark aid): answers repeat the prompt instantly; no model runs");
    return createEchoEngine(options.models, options.slots);
  }
  log.info(
    `loading ${options.models.length === 1 ? "1 model" : `${options.models.length} models`} (threads ${options.threads}, gpu ${options.gpu}, ${options.slots} slots each)`,
  );
  try {
    const engine = await LlamaCppEngine.load({ ...options, logger: log });
    log.info(`backend: ${engine.gpu === false ? "CPU" : engine.gpu}`);
    return engine;
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error;
    log.error(`cannot serve ${error.modelId}: ${error.message}`);
    return undefined;
  }
}
