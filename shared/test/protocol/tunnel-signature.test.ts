import { describe, expect, it } from "vitest";
import { NonceWindow, newSecret, SIGNATURE_WINDOW_MS, SignatureHeader, signCall, verifyCall } from "../../protocol/tunnel-signature.ts";

const call = { method: "POST", path: "/rung/jobs", body: '{"type":"job"}' };
const headersOf = (record: Record<string, string>) => new Headers(record);

describe("tunnel call signatures", () => {
  it("accepts a call signed with the shared secret, once", async () => {
    const secret = newSecret();
    const seen = new NonceWindow();
    const headers = headersOf(await signCall(secret, "node_1", call));
    expect(headers.get(SignatureHeader.node)).toBe("node_1");
    expect(await verifyCall(secret, call, headers, seen)).toEqual({ ok: true });
    expect(await verifyCall(secret, call, headers, seen)).toEqual({ ok: false, reason: "replayed" });
  });

  it("refuses unsigned, forged, altered and stale calls", async () => {
    const secret = newSecret();
    const seen = new NonceWindow();
    expect(await verifyCall(secret, call, headersOf({}), seen)).toEqual({ ok: false, reason: "unsigned" });
    const byStranger = headersOf(await signCall(newSecret(), "node_1", call));
    expect(await verifyCall(secret, call, byStranger, seen)).toEqual({ ok: false, reason: "forged" });
    const signed = headersOf(await signCall(secret, "node_1", call));
    expect(await verifyCall(secret, { ...call, body: '{"type":"evil"}' }, signed, seen)).toEqual({ ok: false, reason: "forged" });
    expect(await verifyCall(secret, { ...call, path: "/other" }, signed, seen)).toEqual({ ok: false, reason: "forged" });
    const old = headersOf(await signCall(secret, "node_1", call, Date.now() - SIGNATURE_WINDOW_MS - 1_000));
    expect(await verifyCall(secret, call, old, seen)).toEqual({ ok: false, reason: "stale" });
  });

  it("does not let forged calls use up nonces", async () => {
    const secret = newSecret();
    const seen = new NonceWindow();
    const genuine = await signCall(secret, "node_1", call);
    const forged = headersOf({ ...genuine, [SignatureHeader.signature]: "0".repeat(64) });
    expect(await verifyCall(secret, call, forged, seen)).toEqual({ ok: false, reason: "forged" });
    expect(await verifyCall(secret, call, headersOf(genuine), seen)).toEqual({ ok: true });
  });

  it("forgets nonces once they are too old to pass the timestamp check anyway", () => {
    const seen = new NonceWindow();
    const start = 1_000_000;
    expect(seen.record("a", start, start)).toBe(true);
    expect(seen.record("a", start, start + 1)).toBe(false);
    expect(seen.record("b", start, start + SIGNATURE_WINDOW_MS * 3)).toBe(true);
    expect(seen.record("a", start + SIGNATURE_WINDOW_MS * 3, start + SIGNATURE_WINDOW_MS * 3)).toBe(true);
  });
});
