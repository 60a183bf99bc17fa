/** What a secret stands for: an API key (`rk_…`) or a node join token (`rj_…`). */
export const SECRET_KINDS = { key: "rk", joinToken: "rj" } as const;
export type SecretKind = keyof typeof SECRET_KINDS;

/** The id the operator sees for a record: `key_<hex>` for keys, `jt_<hex>` for join tokens. */
export const ID_PREFIXES = { key: "key_", joinToken: "jt_" } as const satisfies Record<SecretKind, string>;

/** 12 lowercase hex chars (6 random bytes): the part of a secret that finds its record. */
const ID_PATTERN = "[0-9a-f]{12}";
/** 32 random bytes as unpadded base64url; `_` is in that alphabet, so the id's fixed length is what splits them. */
const SECRET_PATTERN = "[A-Za-z0-9_-]{43}";
const SECRET_FORMS = {
  key: new RegExp(`^${SECRET_KINDS.key}_(${ID_PATTERN})_${SECRET_PATTERN}$`),
  joinToken: new RegExp(`^${SECRET_KINDS.joinToken}_(${ID_PATTERN})_${SECRET_PATTERN}$`),
} as const satisfies Record<SecretKind, RegExp>;
const PUBLIC_ID_FORMS = {
  key: new RegExp(`^${ID_PREFIXES.key}(${ID_PATTERN})$`),
  joinToken: new RegExp(`^${ID_PREFIXES.joinToken}(${ID_PATTERN})$`),
} as const satisfies Record<SecretKind, RegExp>;

/** A new random record id (12 lowercase hex chars). */
export function newId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(6)));
}

/** The secret for record `id`: `rk_<id>_<43 base64url chars>` for a key, `rj_…` for a join token. */
export function newSecret(kind: SecretKind, id: string): string {
  return `${SECRET_KINDS[kind]}_${id}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The record id a secret of this kind names; null when it is not one (a static key, a typo, the other kind). */
export function idOfSecret(kind: SecretKind, secret: string): string | null {
  return SECRET_FORMS[kind].exec(secret)?.[1] ?? null;
}

/** `key_<id>` or `jt_<id>`, as the admin API shows a record. */
export function publicId(kind: SecretKind, id: string): string {
  return `${ID_PREFIXES[kind]}${id}`;
}

/** The record id in a public id (`key_<id>` → `<id>`); null for anything else. */
export function idOfPublicId(kind: SecretKind, value: string): string | null {
  return PUBLIC_ID_FORMS[kind].exec(value)?.[1] ?? null;
}

/** SHA-256 of the whole secret: what is stored and compared, never the secret itself. */
export async function hashSecret(secret: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
}

/** Constant time for equal lengths, so a guess learns nothing from how long the refusal took. */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}
