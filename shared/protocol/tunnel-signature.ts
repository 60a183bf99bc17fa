/**
 * Request signing for the tunnel transport: HMAC-SHA256 over the method, path,
 * body hash, timestamp and a nonce, so a call cannot be forged, altered,
 * delayed past the window, or replayed. WebCrypto only: the same code runs in
 * the Worker and in the agent.
 */

export const SignatureHeader = {
  node: "x-rung-node",
  timestamp: "x-rung-timestamp",
  nonce: "x-rung-nonce",
  signature: "x-rung-signature",
} as const;

/** How far a call's timestamp may be from the receiver's clock. */
export const SIGNATURE_WINDOW_MS = 60_000;

export interface SignedCall {
  method: string;
  /** Path and query, as the receiver sees it. */
  path: string;
  body: string;
}

export async function signCall(secret: string, nodeId: string, call: SignedCall, now = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(now);
  const nonce = crypto.randomUUID();
  const signature = await hmac(secret, await canonical(call, timestamp, nonce));
  return {
    [SignatureHeader.node]: nodeId,
    [SignatureHeader.timestamp]: timestamp,
    [SignatureHeader.nonce]: nonce,
    [SignatureHeader.signature]: signature,
  };
}

export type SignatureRefusal = "unsigned" | "stale" | "replayed" | "forged";

/**
 * Check a call's signature. `seen` remembers nonces for the window; a nonce is
 * recorded only when the signature is valid, so forged calls cannot fill it.
 */
export async function verifyCall(
  secret: string,
  call: SignedCall,
  headers: { get(name: string): string | null | undefined },
  seen: NonceWindow,
  now = Date.now(),
): Promise<{ ok: true } | { ok: false; reason: SignatureRefusal }> {
  const timestamp = headers.get(SignatureHeader.timestamp);
  const nonce = headers.get(SignatureHeader.nonce);
  const signature = headers.get(SignatureHeader.signature);
  if (!timestamp || !nonce || !signature) return { ok: false, reason: "unsigned" };
  const at = Number(timestamp);
  if (!Number.isFinite(at) || Math.abs(now - at) > SIGNATURE_WINDOW_MS) return { ok: false, reason: "stale" };
  const expected = await hmac(secret, await canonical(call, timestamp, nonce));
  if (!equalHex(expected, signature)) return { ok: false, reason: "forged" };
  if (!seen.record(nonce, at, now)) return { ok: false, reason: "replayed" };
  return { ok: true };
}

/** Nonces seen within the signature window; older ones expire with the window. */
export class NonceWindow {
  readonly #seen = new Map<string, number>();

  /** False when the nonce was already used. */
  record(nonce: string, at: number, now = Date.now()): boolean {
    for (const [old, time] of this.#seen) {
      if (now - time <= SIGNATURE_WINDOW_MS * 2) break;
      this.#seen.delete(old);
    }
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, Math.max(at, now));
    return true;
  }
}

/** A fresh random secret, base64: 32 bytes. */
export function newSecret(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

async function canonical(call: SignedCall, timestamp: string, nonce: string): Promise<string> {
  const bodyHash = toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(call.body)));
  return [call.method.toUpperCase(), call.path, bodyHash, timestamp, nonce].join("\n");
}

async function hmac(secret: string, message: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two hex strings of the same length. */
function equalHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
