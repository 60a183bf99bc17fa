import { constants, hostname } from "node:os";
import { NodeKind } from "@rung/shared/protocol";
import { LlamaCppEngine } from "../../engines/llama-cpp-engine.ts";
import { ModelLoadError } from "../../engines/model-load-error.ts";
import { EdgeLink } from "../../link/edge-link.ts";
import { createLogger } from "../../log/logger.ts";
import type { Command } from "../command.ts";
import { describeModel } from "../describe-model.ts";
import { parseStartOptions } from "../start-options.ts";
import { waitForSignal } from "../wait-for-signal.ts";

export const startUsage = `Usage: rung-agent [start] --edge <url> --model <path|hf:uri> [options]

Serve local GGUF models to a Rung edge. The agent dials out over one WebSocket
(no inbound ports) and reconnects by itself.

Options:
  --edge <url>           The edge's base URL, e.g. http://127.0.0.1:8787. Env: RUNG_EDGE.
  --model, -m <model>    A .gguf file or hf:user/repo:quant URI; repeat for several.
                         The id clients use is the file (or repo) name; set it with id=<model>.
  --name <name>          How the node shows up at the edge. Default: ${hostname()}.
  --token <token>        The edge's join token. Env: RUNG_TOKEN.
  --threads <n>          CPU threads per model. Default: half the CPU cores. Threads that
                         compete for cores make decoding much slower.
  --gpu <backend>        auto, cuda, vulkan, metal or false (CPU only). Default: auto.
  --slots <n>            Jobs each model runs at once (context sequences). Default: 2.
  --context-size <n>     Context tokens per slot. Default: the model's trained context, at most 4096.
  --drain-timeout <s>    On SIGTERM/SIGINT, seconds to let running jobs finish. Default: 30.
  -h, --help             Show this help.

Example:
  rung-agent --edge http://127.0.0.1:8787 --model ./qwen2.5-0.5b-instruct-q4_k_m.gguf --threads 2`;

/** Load the models, join the edge, serve until a signal, then drain and leave. */
export const startCommand: Command = {
  name: "start",
  summary: "serve models to an edge (the default command)",
  async run(args) {
    const options = parseStartOptions(args);
    if (options === "help") {
      process.stdout.write(`${startUsage}\n`);
      return 0;
    }
    const log = createLogger();
    log.info(`loading ${options.models.length === 1 ? "1 model" : `${options.models.length} models`} (threads ${options.threads}, gpu ${options.gpu}, ${options.slots} slots each)`);
    let engine: LlamaCppEngine;
    try {
      engine = await LlamaCppEngine.load(options);
    } catch (error) {
      if (!(error instanceof ModelLoadError)) throw error;
      log.error(`cannot serve ${error.modelId}: ${error.message}`);
      return 1;
    }
    log.info(`backend: ${engine.gpu === false ? "CPU" : engine.gpu}`);
    for (const model of engine.models) log.info(`serving ${describeModel(model)}`);

    const link = new EdgeLink({
      edge: options.edge,
      token: options.token,
      engine,
      identity: { name: options.name, kind: NodeKind.native },
      logger: log,
    });
    const signal = waitForSignal(["SIGINT", "SIGTERM"], (again) => {
      log.warn(`${again} again: exiting without waiting for jobs`);
      process.exit(128 + constants.signals[again]);
    });
    link.start();
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
