import type { Job } from "@rung/shared/protocol";
import {
  answersAgree,
  type ComparedAnswer,
  canaryFor,
  hasFreeSlot,
  type NodeView,
  pickNode,
  type VerificationSettings,
} from "@rung/shared/routing";
import { attemptJob } from "./attempt.ts";
import { CheckRun, type FrameTarget } from "./check-run.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { Checkable } from "./job-run-host.ts";
import type { NodeTransport } from "./node-transport.ts";
import type { CheckKind, VerificationBook } from "./verification-book.ts";
import { mayReach, tierOf } from "./visible-nodes.ts";

/** What checks need from the router: its nodes, breakers and policy, and the map that routes frames. */
export interface CheckHost {
  transport: NodeTransport;
  canDispatch(nodeId: string, modelId: string): boolean;
  settings(): VerificationSettings;
  random(): number;
  /** How long a check may run, and wait for a trusted node's slot. */
  timeoutMs: number;
  /** Routes the job's frames to the check until it ends. */
  track(jobId: string, target: FrameTarget, nodeId: string, modelId: string): void;
  untrack(jobId: string): void;
  /** A check ended: its slot is free, and a node on probation may take jobs again. */
  slotFreed(): void;
}

/** A check that found every trusted node busy: it runs when one frees a slot, before queued requests. */
interface WaitingCheck {
  job: FabricJob;
  answered: Checkable;
  since: number;
}

/** Checks that wait at once; past this, an answer is not checked (another will be). */
const MAX_WAITING = 64;

/**
 * Checks of public nodes' greedy answers that clients got: the job run again
 * on a trusted node (a private node the key may reach, serving the same file),
 * else a canary run on the node itself. A check waits for a trusted node's
 * slot rather than being dropped, since the node stays on probation (and off
 * new jobs) while its check is under way.
 */
export class AnswerChecks {
  readonly #waiting: WaitingCheck[] = [];

  constructor(
    private readonly book: VerificationBook,
    private readonly host: CheckHost,
  ) {}

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Maybe checks the answer, as the policy samples them. */
  check(job: FabricJob, answered: Checkable): void {
    if (!this.book.begin(answered.nodeId)) return;
    const outcome = this.#start(job, answered);
    if (outcome === "busy" && this.#waiting.length < MAX_WAITING) {
      this.#waiting.push({ job, answered, since: Date.now() });
      return;
    }
    if (outcome !== "started") this.book.abandon(answered.nodeId, answered.modelId, undefined, "skipped");
  }

  /** A slot freed: waiting checks start where they can, in order; those past the timeout give up. */
  retryWaiting(): void {
    const now = Date.now();
    for (const waiting of [...this.#waiting]) {
      const outcome = now - waiting.since > this.host.timeoutMs ? "gone" : this.#start(waiting.job, waiting.answered);
      if (outcome === "busy") continue;
      this.#waiting.splice(this.#waiting.indexOf(waiting), 1);
      if (outcome !== "started") this.book.abandon(waiting.answered.nodeId, waiting.answered.modelId, undefined, "skipped");
    }
  }

  /** `busy`: a trusted node serves the model but has no free slot now; `gone`: nothing can check it. */
  #start(job: FabricJob, answered: Checkable): "started" | "busy" | "gone" {
    const { nodeId, modelId } = answered;
    const trusted = this.#trusted(job, answered);
    const referee = pickNode(trusted, modelId, {
      random: this.host.random,
      available: (id) => this.host.canDispatch(id, modelId),
      exclude: new Set([nodeId]),
    })?.id;
    const rerun = referee && this.#run(referee, attemptJob(job, `${job.requestId}.check`, modelId));
    if (rerun) return this.#settle("rerun", rerun, answered, job.requestId);
    if (trusted.length > 0) return "busy";
    const canary = canaryFor(modelId, this.host.settings(), this.host.random);
    const canaryRun =
      canary &&
      this.#run(nodeId, {
        type: "job",
        jobId: `${job.requestId}.canary`,
        model: modelId,
        input: { kind: "chat", messages: [{ role: "user", content: canary.prompt }] },
        sampling: { temperature: 0, topP: 1, stop: [], maxTokens: canary.maxTokens },
      });
    if (canaryRun) return this.#settle("canary", canaryRun, { ...answered, text: canary.answer }, undefined);
    return canary && this.host.transport.view(nodeId) ? "busy" : "gone";
  }

  /** Private nodes the key may reach that serve the same model file. */
  #trusted(job: FabricJob, answered: Checkable): NodeView[] {
    const { modelId, nodeId } = answered;
    const fileOf = (view: NodeView | undefined) => view?.models.find((m) => m.id === modelId)?.sha256;
    // Announced hashes that differ mean different weights under one id: their greedy answers need not agree.
    const sha256 = fileOf(this.host.transport.view(nodeId));
    return this.host.transport.views(modelId).filter((view) => {
      if (tierOf(view) !== "private" || view.kind === "upstream" || view.draining || !mayReach(job.caller, view, modelId)) return false;
      const file = fileOf(view);
      return !sha256 || !file || file === sha256;
    });
  }

  /** Sends a check's job to a node with a free slot; its frames come back like an attempt's. */
  #run(nodeId: string, job: Job): CheckRun | undefined {
    const { transport } = this.host;
    const view = transport.view(nodeId);
    if (!view || !hasFreeSlot(view, job.model) || !transport.send(nodeId, job)) return undefined;
    transport.take(nodeId, job.model);
    const check = new CheckRun(job, nodeId, this.host.timeoutMs, (ended, cancelNode) => {
      if (cancelNode) transport.cancel(nodeId, ended.job.jobId);
      this.host.untrack(ended.job.jobId);
      transport.release(nodeId, ended.job.model);
    });
    this.host.track(job.jobId, check, nodeId, job.model);
    return check;
  }

  /**
   * Compares the public node's answer with the trusted one once the check ends.
   * A rerun: `suspect` is what the client got, the check's answer is expected.
   * A canary: the check's answer is the node's, `suspect.text` the recorded one.
   */
  #settle(kind: CheckKind, check: CheckRun, suspect: Checkable, requestId: string | undefined): "started" {
    void check.answer.then((result) => {
      if (!result.ok) this.book.abandon(suspect.nodeId, suspect.modelId, kind, "failed");
      else {
        const [answer, expected]: ComparedAnswer[] = kind === "canary" ? [result, suspect] : [suspect, result];
        this.book.settle({
          nodeId: suspect.nodeId,
          node: this.host.transport.nameOf(suspect.nodeId),
          model: suspect.modelId,
          kind,
          ...(requestId && { requestId }),
          answer: describeAnswer(answer!),
          expected: describeAnswer(expected!),
          referee: kind === "canary" ? "canary" : this.host.transport.nameOf(check.nodeId),
          agreed: answersAgree(answer!, expected!),
          checkTokens: result.completionTokens,
        });
      }
      // After the standing changed: a node on probation may take jobs again (or, quarantined, never).
      this.host.slotFreed();
    });
    return "started";
  }
}

/** An answer as the operator reads it in a quarantine's evidence. */
function describeAnswer(answer: ComparedAnswer): string {
  return answer.toolCalls?.length ? `${answer.text}\n[tool calls] ${JSON.stringify(answer.toolCalls)}` : answer.text;
}
