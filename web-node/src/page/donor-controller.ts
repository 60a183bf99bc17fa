import type { EngineError } from "@rung/shared/node";
import { NodeKind, TrustTier, type WireError } from "@rung/shared/protocol";
import type { LoadProgress } from "../engines/load-progress.ts";
import { DonorLink, type LinkState } from "../link/donor-link.ts";
import { WorkerEngine } from "../worker/worker-engine.ts";
import type { EngineSpec } from "../worker/worker-messages.ts";
import { describeError } from "./describe-error.ts";
import { MeteredEngine, type ServingFigures } from "./metered-engine.ts";
import { fallbackAfter, type ModelChoice } from "./model-plan.ts";
import { recoveryFor } from "./recovery-for.ts";

export type DonorPhase =
  | { phase: "idle" }
  | { phase: "loading"; choice: ModelChoice; progress: LoadProgress | undefined }
  | { phase: "serving"; choice: ModelChoice; link: LinkState; threads: number; readyMs: number }
  | { phase: "paused"; choice: ModelChoice; why: "donor" | "hidden" }
  | { phase: "stopped" }
  | { phase: "failed"; message: string };

export interface DonorControllerOptions {
  connectUrl: string;
  wasmUrl: string;
  nodeName: string;
  createWorker(): Worker;
  onPhase(phase: DonorPhase): void;
  onFigures(figures: ServingFigures): void;
  /** Something the donor should read: a failure in words and what the tab did about it. */
  onNotice(message: string): void;
}

/**
 * The tab's life as a node: load a model in a worker, join the pool, and
 * pause, resume, change model or stop on the donor's word. When the engine
 * breaks (a lost GPU, memory running out, a model that will not load) the job
 * in hand goes back to the edge as retryable and the tab moves down its list
 * of models without a reload.
 */
export class DonorController {
  #phase: DonorPhase = { phase: "idle" };
  #choices: readonly ModelChoice[] = [];
  #engine: MeteredEngine | undefined;
  #link: DonorLink | undefined;
  #choice: ModelChoice | undefined;
  #reloadedAfterLoss = false;
  /** Bumped by every start, stop and change, so a load that finishes after the donor moved on is discarded. */
  #generation = 0;

  constructor(private readonly options: DonorControllerOptions) {}

  get phase(): DonorPhase {
    return this.#phase;
  }

  /** Load `choice` (one of `choices`, which the tab falls back along) and join the pool. */
  async start(choices: readonly ModelChoice[], choice: ModelChoice): Promise<void> {
    this.#choices = choices;
    await this.#teardown();
    await this.#load(choice, ++this.#generation);
  }

  /** Take no new jobs; the job in hand finishes (or is handed back after 30 s). The model stays loaded. */
  async pause(why: "donor" | "hidden"): Promise<void> {
    if (this.#phase.phase !== "serving" || !this.#link) return;
    const link = this.#link;
    this.#link = undefined;
    this.#setPhase({ phase: "paused", choice: this.#phase.choice, why });
    await link.close();
  }

  resume(): void {
    if (this.#phase.phase !== "paused" || !this.#engine || !this.#choice) return;
    this.#join(this.#engine, this.#choice, 1, 0);
  }

  /** Leave the pool and free the model's memory. */
  async stop(): Promise<void> {
    this.#generation += 1;
    await this.#teardown();
    this.#setPhase({ phase: "stopped" });
  }

  async #load(choice: ModelChoice, generation: number): Promise<void> {
    this.#choice = choice;
    this.#setPhase({ phase: "loading", choice, progress: undefined });
    const started = performance.now();
    let engine: WorkerEngine;
    try {
      engine = await WorkerEngine.load(this.options.createWorker, this.#spec(choice), {
        onProgress: (progress) => generation === this.#generation && this.#setPhase({ phase: "loading", choice, progress }),
      });
    } catch (error) {
      if (generation === this.#generation) await this.#recover(choice, error as EngineError, generation);
      return;
    }
    if (generation !== this.#generation) {
      await engine.dispose();
      return;
    }
    const metered = new MeteredEngine(engine, {
      onFigures: this.options.onFigures,
      onEngineError: (error) => {
        const recovery = recoveryFor(error.code);
        if (recovery !== "none") void this.#recover(choice, error, generation);
      },
    });
    this.#engine = metered;
    this.#join(metered, choice, engine.threads, performance.now() - started);
  }

  #join(engine: MeteredEngine, choice: ModelChoice, threads: number, readyMs: number): void {
    const link = new DonorLink({
      url: this.options.connectUrl,
      engine,
      identity: { name: this.options.nodeName, kind: NodeKind.browser, trust: TrustTier.public },
      onState: (state) => {
        if (this.#link !== link) return;
        if (state.state === "refused") {
          this.options.onNotice(`The pool refused this tab: ${state.error.message}`);
          void this.stop();
          return;
        }
        this.#setPhase({ phase: "serving", choice, link: state, threads, readyMs });
      },
    });
    this.#link = link;
    this.#setPhase({ phase: "serving", choice, link: { state: "connecting", attempt: 0 }, threads, readyMs });
  }

  /** The engine broke: say so, free it, and load the next model that can work here. */
  async #recover(failed: ModelChoice, error: WireError | EngineError, generation: number): Promise<void> {
    if (generation !== this.#generation) return;
    const next = this.#generation + 1;
    this.#generation = next;
    const recovery = recoveryFor(error.code);
    const reloadSame = recovery === "reload" && !this.#reloadedAfterLoss;
    if (recovery === "reload") this.#reloadedAfterLoss = true;
    const target = reloadSame ? failed : fallbackAfter(this.#choices, failed, recovery === "cpu-engine" ? "cpu-engine" : "smaller-model");
    const words = describeError(error);
    await this.#teardown(0);
    if (!target) {
      this.options.onNotice(`${words} No other model can run in this tab, so it has stopped.`);
      this.#setPhase({ phase: "failed", message: words });
      return;
    }
    this.options.onNotice(`${words} ${target === failed ? `Loading ${target.id} again.` : `Switching to ${target.id}.`}`);
    await this.#load(target, next);
  }

  /** Leave the pool (handing back the job in hand after `handBackMs`) and end the engine's worker. */
  async #teardown(handBackMs?: number): Promise<void> {
    const link = this.#link;
    const engine = this.#engine;
    this.#link = undefined;
    this.#engine = undefined;
    await link?.close(handBackMs);
    await engine?.dispose();
  }

  #spec(choice: ModelChoice): EngineSpec {
    return choice.engine === "wllama"
      ? { engine: "wllama", model: choice.model, wasmUrl: this.options.wasmUrl, threads: choice.threads }
      : { engine: "webllm", modelId: choice.id };
  }

  #setPhase(phase: DonorPhase): void {
    this.#phase = phase;
    this.options.onPhase(phase);
  }
}
