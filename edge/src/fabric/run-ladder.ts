import type { WireError } from "@rung/shared/protocol";
import { type EffectiveEscalation, escalationFor, mayClimb, rungOrder, type WindowFacts } from "@rung/shared/routing";
import type { Attempt } from "./attempt.ts";
import type { FabricJob } from "./fabric-job.ts";
import type { JobRunHost, Ladder } from "./job-run-host.ts";

/**
 * Where one request stands on its ladder: the rungs it may still use, how
 * often it climbed and retried, the errors it met, and the nodes that failed
 * it. The order and the right to climb are decided in `@rung/shared/routing`.
 */
export class RunLadder {
  #ladder: Ladder;
  readonly #escalations: EffectiveEscalation[] = [];
  /** The lowest rung still allowed: a climb leaves the rungs below behind. */
  #floor: number;
  #climbs = 0;
  #retries = 0;
  readonly #errors: WireError[] = [];
  /** Nodes that failed this request, by model; skipped until a retry's backoff lets them in again. */
  readonly #failed = new Map<string, Set<string>>();
  /** A node whose answer waits for a second opinion: it must not give that opinion itself, not even as a hedge. */
  #setAside: string | undefined;

  constructor(
    ladder: Ladder,
    private readonly job: Pick<FabricJob, "stream" | "responseFormat">,
    private readonly host: Pick<JobRunHost, "pickNode" | "couldServeLater" | "awaitingReturn">,
  ) {
    this.#ladder = ladder;
    this.#floor = ladder.startIndex;
  }

  get plan(): Ladder {
    return this.#ladder;
  }

  /** The escalation settings an answer on this rung is judged under: with its model's own bar, when the policy has one. */
  escalationAt(rungIndex: number): EffectiveEscalation {
    // Asked once per chunk: made once per rung.
    let escalation = this.#escalations[rungIndex];
    if (escalation === undefined) {
      escalation = escalationFor(this.#ladder.escalation, this.modelOf(rungIndex));
      this.#escalations[rungIndex] = escalation;
    }
    return escalation;
  }

  get climbs(): number {
    return this.#climbs;
  }

  get retries(): number {
    return this.#retries;
  }

  get errors(): readonly WireError[] {
    return this.#errors;
  }

  /** The rungs to try, in order (see `rungOrder`). */
  order(): number[] {
    const { rungs, startIndex } = this.#ladder;
    return rungOrder({ rungCount: rungs.length, startIndex, floor: this.#floor, climbs: this.#climbs, errors: this.#errors.length });
  }

  modelOf(rungIndex: number): string {
    return this.#ladder.rungs[rungIndex]!.modelId;
  }

  /** A node of the rung that can take the job now, other than those that failed it and `also`. */
  pickNode(rungIndex: number, also: readonly string[] = []): string | undefined {
    const { modelId, nodeIds } = this.#ladder.rungs[rungIndex]!;
    const exclude = new Set([...also, ...(this.#failed.get(modelId) ?? [])]);
    if (this.#setAside) exclude.add(this.#setAside);
    return this.host.pickNode(modelId, nodeIds, exclude);
  }

  /** Whether a node of the rung could take the job now if the nodes that failed it were let in again. */
  freeIgnoringFailures(rungIndex: number): boolean {
    const { modelId, nodeIds } = this.#ladder.rungs[rungIndex]!;
    return this.host.pickNode(modelId, nodeIds, new Set(this.#setAside ? [this.#setAside] : [])) !== undefined;
  }

  /** From now on no attempt of this request runs on the node. */
  setAside(nodeId: string): void {
    this.#setAside = nodeId;
  }

  couldServeLater(rungIndex: number): boolean {
    const { modelId, nodeIds } = this.#ladder.rungs[rungIndex]!;
    return this.host.couldServeLater(modelId, nodeIds);
  }

  /** Every rung left waits for its model's nodes to come back: none is merely busy. */
  awaitingReturn(): boolean {
    return this.order().every((rungIndex) => this.host.awaitingReturn(this.modelOf(rungIndex)));
  }

  /** What the commit window knows of an answer from this rung. */
  windowFacts(rungIndex: number): WindowFacts {
    const { escalation, startIndex, rungs } = this.#ladder;
    const climbs = mayClimb(rungIndex, { escalation, climbs: this.#climbs, startIndex, rungCount: rungs.length });
    return { stream: this.job.stream, responseFormat: this.job.responseFormat, escalation: this.escalationAt(rungIndex), mayClimb: climbs };
  }

  /** A weak answer on this attempt's rung: the rungs from the next one up remain, and every node gets a fresh chance. */
  climbedFrom(attempt: Attempt): void {
    this.#climbs++;
    this.#floor = attempt.rungIndex + 1;
    this.#failed.clear();
  }

  failed(error: WireError): void {
    this.#errors.push(error);
  }

  /** A retryable failure: skip the attempt's node for its model until a backoff lets it in again. */
  retryAfter(attempt: Attempt): void {
    const nodes = this.#failed.get(attempt.modelId) ?? new Set<string>();
    this.#failed.set(attempt.modelId, nodes.add(attempt.nodeId));
    this.#retries++;
  }

  get anyFailed(): boolean {
    return this.#failed.size > 0;
  }

  forgiveFailures(): void {
    this.#failed.clear();
  }

  /** Nodes joined or left while the request waited: the same rungs, served by these nodes now. */
  updateNodes(nodeIdsByModel: ReadonlyMap<string, readonly string[]>): void {
    const rungs = this.#ladder.rungs.map((rung) => ({ ...rung, nodeIds: nodeIdsByModel.get(rung.modelId) ?? rung.nodeIds }));
    this.#ladder = { ...this.#ladder, rungs };
  }
}
