/**
 * `--edge`: the new bar (or bars per model) into a running edge's policy. `PUT /admin/policy`
 * replaces the whole policy, so it reads the current one, changes `escalation.minMeanConfidence`
 * or the calibrated models' `escalation.bars` alone, and puts it back.
 */
import { type Judge, judgeLabel, parsePolicy } from "@rung/shared/routing";
import { EdgeRefusal } from "./edge-refusal.ts";

/** What calibration changes: the shared bar, or the bars of the models it calibrated (other models' bars stay); and the judge they are on, when known. */
export interface PolicyPatch {
  escalation: { judge?: Judge } & ({ minMeanConfidence: number } | { bars: Record<string, number> });
}

export interface ApplyOptions {
  /** The edge's base URL, e.g. https://rung.example.com. */
  edge: string;
  adminKey: string;
  /** The pool whose policy to change; default the edge's default pool (`main`). */
  pool?: string;
  patch: PolicyPatch;
  /** The judge label the sample was scored by: the edge must judge with the same one. */
  judge?: string;
  fetch?: typeof fetch;
}

export interface Applied {
  /** The policy the edge answered the PUT with. */
  policy: unknown;
  /** Things the operator should know: profiles (and, for the shared bar, models) whose own bar overrides the new ones. */
  notes: string[];
}

export async function applyPolicyPatch(options: ApplyOptions): Promise<Applied> {
  const url = `${options.edge.replace(/\/+$/, "")}/admin/policy${options.pool ? `?pool=${encodeURIComponent(options.pool)}` : ""}`;
  const headers = { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" };
  const current = await call(options, url, { method: "GET", headers });
  const parsed = parsePolicy(current);
  if (!parsed.ok || typeof current !== "object" || current === null) {
    throw new EdgeRefusal(`GET ${url} did not answer a policy${parsed.ok ? "" : `: ${parsed.message}`}`);
  }
  const edgeJudge = judgeLabel(parsed.policy.escalation.judge);
  if (options.judge !== undefined && options.judge !== edgeJudge) {
    throw new EdgeRefusal(
      `the edge judges by ${edgeJudge} but the sample was scored by ${options.judge}: the bar would mean something else there. Set escalation.judge to the sample's judge first, or calibrate on answers the edge's judge scored`,
    );
  }
  const patch = options.patch.escalation;
  const bars = parsed.policy.escalation.bars;
  // A bar the profile sets holds for every model (escalationFor), so it beats bars per model too.
  const overridden = "bars" in patch ? "the bars per model (a profile's bar holds for every model)" : "the bar";
  const notes = Object.entries(parsed.policy.profiles)
    .filter(([, profile]) => profile.minMeanConfidence !== undefined)
    .map(
      ([name, profile]) =>
        `profiles.${name}.minMeanConfidence (${profile.minMeanConfidence}) overrides ${overridden} for auto:${name}'s requests`,
    )
    .concat(
      "bars" in patch
        ? []
        : Object.entries(bars).map(([model, bar]) => `escalation.bars["${model}"] (${bar}) overrides the bar for ${model}'s answers`),
    );
  const next = current as { escalation?: Record<string, unknown> };
  const escalation = "bars" in patch ? { bars: { ...bars, ...patch.bars } } : patch;
  const changed = { ...next, escalation: { ...next.escalation, ...escalation } };
  const policy = await call(options, url, { method: "PUT", headers, body: JSON.stringify(changed) });
  return { policy, notes };
}

async function call(options: ApplyOptions, url: string, init: RequestInit & { method: string }): Promise<unknown> {
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, init);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new EdgeRefusal(`could not reach the edge at ${options.edge}: ${cause}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok && body !== undefined) return body;
  const message = (body as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 200);
  throw new EdgeRefusal(refusalInWords(response.status, init.method, url, message));
}

function refusalInWords(status: number, method: string, url: string, message: string): string {
  if (status === 401)
    return "the admin key was refused (401): pass the edge's RUNG_ADMIN_KEY with --admin-key or the RUNG_ADMIN_KEY variable";
  if (status === 403) return `the edge's admin routes are closed (403): ${message || "set the RUNG_ADMIN_KEY secret on the edge"}`;
  if (status === 400 && method === "PUT") return `the edge refused the policy, and the old one stays (400): ${message}`;
  if (status === 404) return `the edge has no ${method} /admin/policy (404): is ${url} a Rung edge?`;
  return `the edge answered ${status} to ${method} ${url}${message ? `: ${message}` : ""}`;
}
