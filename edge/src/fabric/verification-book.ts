import { afterCheck, NEW_STANDING, probationAllows, type Standing, shouldCheck, type VerificationSettings } from "@rung/shared/routing";
import { Counter, type MetricFamily } from "../metrics/index.ts";

/** How a public node's answer was checked: run again on a trusted node, a canary, or a verify-demanding key's second node. */
export type CheckKind = "rerun" | "canary" | "confirm";
export type CheckOutcome = "agreed" | "differed" | "failed" | "skipped";

/** Why a node was quarantined: the job and both texts, for the operator to judge. */
export interface Quarantine {
  nodeId: string;
  node: string;
  model: string;
  at: string;
  kind: CheckKind;
  /** The client request whose answer was checked; absent for a canary. */
  requestId?: string;
  /** What the node answered. */
  answer: string;
  /** What the trusted node (or the canary's recording) answered. */
  expected: string;
  /** The trusted node's name, or `canary`. */
  referee: string;
}

/** A check that finished and compared two answers. */
export interface SettledCheck extends Omit<Quarantine, "at"> {
  agreed: boolean;
  /** Tokens the check itself cost: verification's share of the pool's compute. */
  checkTokens: number;
}

const STORAGE_KEY = "verification";
/** Kept for the operator after the node left; the oldest go first. */
const MAX_KEPT = 100;
/** Evidence texts are cut here: enough to judge, bounded in storage and in `/v1/status`. */
const MAX_EVIDENCE_CHARACTERS = 2_000;

interface Saved {
  /** Evidence, kept after its node left. */
  records: Quarantine[];
  /** The quarantined nodes still connected. */
  nodeIds: string[];
}

/**
 * Where each public node stands with verification, and the evidence against
 * those quarantined. Standings live in memory (a rebuilt object checks nodes
 * again from their first job, which errs on the safe side); quarantines are
 * kept in storage, so a quarantined node stays out after hibernation.
 */
export class VerificationBook {
  readonly #standings = new Map<string, Standing>();
  readonly #quarantined: Quarantine[];
  readonly #quarantinedIds: Set<string>;
  readonly #checks = new Counter();
  readonly #checkTokens = new Counter();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly settings: () => VerificationSettings,
    private readonly random: () => number,
  ) {
    const saved = storage.kv.get<Saved>(STORAGE_KEY);
    this.#quarantined = saved?.records ?? [];
    this.#quarantinedIds = new Set(saved?.nodeIds);
  }

  get anyQuarantined(): boolean {
    return this.#quarantinedIds.size > 0;
  }

  isQuarantined(nodeId: string): boolean {
    return this.#quarantinedIds.has(nodeId);
  }

  standing(nodeId: string): Standing | undefined {
    return this.#standings.get(nodeId);
  }

  /** Whether a public node running `active` jobs may take one more now (probation, quarantine). */
  mayTake(nodeId: string, active: number): boolean {
    return !this.isQuarantined(nodeId) && probationAllows(this.#standings.get(nodeId), active, this.settings());
  }

  /** Whether to check this answer of the node; true counts a check as under way, which `settle` or `abandon` ends. */
  begin(nodeId: string): boolean {
    const standing = this.#standings.get(nodeId) ?? NEW_STANDING;
    if (this.isQuarantined(nodeId) || !shouldCheck(standing, this.settings(), this.random)) return false;
    this.#standings.set(nodeId, { ...standing, pending: standing.pending + 1 });
    return true;
  }

  /** A check found no node to run on, or its run failed: nothing is known of the answer. */
  abandon(nodeId: string, model: string, kind: CheckKind | undefined, outcome: "failed" | "skipped"): void {
    const standing = this.#standings.get(nodeId);
    if (standing) this.#standings.set(nodeId, { ...standing, pending: Math.max(0, standing.pending - 1) });
    this.#checks.inc({ model, kind: kind ?? "none", outcome });
  }

  /** A check compared two answers; a node past what the policy forgives is quarantined, with the evidence. */
  settle(check: SettledCheck): void {
    const { agreed, checkTokens, ...evidence } = check;
    const known = this.#standings.get(check.nodeId) ?? NEW_STANDING;
    // A confirmation was never begun (every answer of a verify-demanding key is checked): it is under way only now.
    const before = check.kind === "confirm" ? { ...known, pending: known.pending + 1 } : known;
    const after = afterCheck(before, agreed, this.settings());
    this.#standings.set(check.nodeId, after);
    this.#checks.inc({ model: check.model, kind: check.kind, outcome: agreed ? "agreed" : "differed" });
    this.#checkTokens.inc({ model: check.model, kind: check.kind }, checkTokens);
    if (after.quarantined && !before.quarantined) this.#quarantine(evidence);
  }

  /** A node left: its standing goes (a returning tab is a new node, checked from its first job); a quarantine's evidence stays. */
  forget(nodeId: string): void {
    this.#standings.delete(nodeId);
    if (this.#quarantinedIds.delete(nodeId)) this.#save();
  }

  /** What `/v1/status` shows: a public node's standing, by node id. */
  standingOf(nodeId: string): { standing: "probation" | "verified" | "quarantined"; agreed: number; differed: number } {
    const s = this.#standings.get(nodeId) ?? NEW_STANDING;
    // Probation: no check of its answers agreed yet, so it runs few jobs at once.
    const standing = this.isQuarantined(nodeId) ? "quarantined" : s.agreed > 0 ? "verified" : "probation";
    return { standing, agreed: s.agreed, differed: s.differed };
  }

  /** Every quarantine kept, newest last. */
  quarantines(): readonly Quarantine[] {
    return this.#quarantined;
  }

  families(pool: string): MetricFamily[] {
    const p = { pool };
    return [
      this.#checks.family(
        "rung_verification_checks_total",
        "Checks of public nodes' greedy answers, by kind (rerun on a trusted node, canary, confirm for a verify-demanding key) and outcome.",
        p,
      ),
      this.#checkTokens.family(
        "rung_verification_tokens_total",
        "Completion tokens spent on checks: verification's share of the compute.",
        p,
      ),
      {
        name: "rung_nodes_quarantined",
        help: "Connected nodes quarantined because their answers differed from a trusted node's.",
        type: "gauge",
        samples: [{ labels: p, value: this.#quarantinedIds.size }],
      },
    ];
  }

  #quarantine(evidence: Omit<Quarantine, "at">): void {
    const cut = (text: string) => (text.length > MAX_EVIDENCE_CHARACTERS ? `${text.slice(0, MAX_EVIDENCE_CHARACTERS)}…` : text);
    const record = { ...evidence, answer: cut(evidence.answer), expected: cut(evidence.expected), at: new Date().toISOString() };
    this.#quarantined.push(record);
    if (this.#quarantined.length > MAX_KEPT) this.#quarantined.shift();
    this.#quarantinedIds.add(record.nodeId);
    console.warn(JSON.stringify({ level: "warn", event: "node_quarantined", node: record.node, model: record.model, kind: record.kind }));
    this.#save();
  }

  #save(): void {
    const saved: Saved = { records: this.#quarantined, nodeIds: [...this.#quarantinedIds] };
    this.storage.kv.put(STORAGE_KEY, saved);
  }
}
