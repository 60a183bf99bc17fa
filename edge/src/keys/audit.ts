export type AuditAction =
  | "key.create"
  | "key.update"
  | "key.revoke"
  | "join_token.create"
  | "join_token.revoke"
  | "policy.replace"
  | "policy.reset";

/** One log line per admin change: who, what, which record and pool. Never a secret or a hash. */
export function audit(action: AuditAction, target: string, pool: string): void {
  console.log(JSON.stringify({ level: "info", audit: true, actor: "admin", action, target, pool, at: new Date().toISOString() }));
}
