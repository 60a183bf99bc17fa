import { DEFAULT_POLICY, type Policy, parsePolicy, parsePolicyJson } from "@rung/shared/routing";

export type PolicyChange = { ok: true; policy: Policy } | { ok: false; message: string };
type PolicySource = "admin" | "RUNG_POLICY" | "defaults";

/** Where the policy an operator set through the admin route is kept, so it outlives the object. */
const STORED_POLICY_KEY = "policy";

/**
 * The pool's routing policy: the one an operator set through the admin route
 * (kept in storage), else `RUNG_POLICY` from wrangler.toml, else the defaults.
 * A `RUNG_POLICY` that does not parse leaves the defaults in force and says why
 * on the status page and in the log, rather than refusing every request.
 */
export class PolicyStore {
  readonly #configured: { policy: Policy; source: PolicySource; error?: string };
  #current: { policy: Policy; source: PolicySource };

  constructor(
    private readonly storage: DurableObjectStorage,
    configuredJson: string | undefined,
  ) {
    this.#configured = configuredPolicy(configuredJson);
    if (this.#configured.error) console.error(JSON.stringify({ level: "error", message: this.#configured.error }));
    const stored = storage.kv.get<unknown>(STORED_POLICY_KEY);
    const restored = stored === undefined ? undefined : parsePolicy(stored);
    if (restored && !restored.ok) {
      // Written by an older edge whose schema differed: say so rather than drop the operator's policy silently.
      console.error(JSON.stringify({ level: "error", message: `stored admin policy ignored: ${restored.message}` }));
    }
    this.#current = restored?.ok ? { policy: restored.policy, source: "admin" } : this.#configured;
  }

  get current(): Policy {
    return this.#current.policy;
  }

  replace(input: unknown): PolicyChange {
    const parsed = parsePolicy(input);
    if (!parsed.ok) return parsed;
    this.storage.kv.put(STORED_POLICY_KEY, parsed.policy);
    this.#current = { policy: parsed.policy, source: "admin" };
    return parsed;
  }

  reset(): Policy {
    this.storage.kv.delete(STORED_POLICY_KEY);
    this.#current = this.#configured;
    return this.#current.policy;
  }

  describe(): { source: PolicySource; configError?: string } {
    const error = this.#configured.error;
    return { source: this.#current.source, ...(error && { configError: error }) };
  }
}

function configuredPolicy(json: string | undefined): { policy: Policy; source: PolicySource; error?: string } {
  if (!json?.trim()) return { policy: DEFAULT_POLICY, source: "defaults" };
  const parsed = parsePolicyJson(json);
  if (parsed.ok) return { policy: parsed.policy, source: "RUNG_POLICY" };
  return { policy: DEFAULT_POLICY, source: "defaults", error: `RUNG_POLICY ignored: ${parsed.message}` };
}
