import { describe, expect, it } from "vitest";
import { edgeMessageSchema, type Hello, nodeMessageSchema, PROTOCOL_VERSION } from "../../protocol/messages.ts";
import { hasMinorVersion, isCompatibleProtocol, MAX_FRAME_BYTES, parseFrame } from "../../protocol/parse-frame.ts";

const hello: Hello = {
  type: "hello",
  protocol: PROTOCOL_VERSION,
  node: { name: "laptop", kind: "native", engine: "echo", slots: 2 },
  models: [{ id: "tiny", parameters: 1000, quantization: "F16", contextLength: 512, tokensPerSecond: 10, slots: 1 }],
};

/** A valid `draining` frame padded with an ignored field to exactly `length` UTF-16 code units. */
function paddedFrame(length: number, padCharacter = "x"): string {
  const empty = JSON.stringify({ type: "draining", pad: "" });
  return JSON.stringify({ type: "draining", pad: padCharacter.repeat(length - empty.length) });
}

function errorOf(result: ReturnType<typeof parseFrame>) {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe("parseFrame", () => {
  it("decodes a valid string frame", () => {
    expect(parseFrame(nodeMessageSchema, JSON.stringify(hello))).toEqual({ ok: true, value: hello });
  });

  it("decodes an ArrayBuffer frame", () => {
    const bytes = new TextEncoder().encode(JSON.stringify(hello));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(parseFrame(nodeMessageSchema, buffer)).toEqual({ ok: true, value: hello });
  });

  it("decodes a Uint8Array frame with multi-byte text", () => {
    const frame = { type: "chunk", jobId: "j", seq: 0, text: "héllo 🙂", confidence: null };
    const result = parseFrame(nodeMessageSchema, new TextEncoder().encode(JSON.stringify(frame)));
    expect(result).toEqual({ ok: true, value: frame });
  });

  it("refuses a frame that is not JSON as a non-retryable bad_frame", () => {
    expect(errorOf(parseFrame(nodeMessageSchema, "{type: hello"))).toEqual({
      code: "bad_frame",
      message: "frame is not JSON",
      retryable: false,
    });
  });

  it("refuses a schema violation with a message naming the path", () => {
    const bad = { ...hello, node: { ...hello.node, slots: 0 } };
    const error = errorOf(parseFrame(nodeMessageSchema, JSON.stringify(bad)));
    expect(error.code).toBe("bad_frame");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^invalid frame at node\.slots: /);
  });

  it("names array indices in the path", () => {
    const bad = { ...hello, models: [{ ...hello.models[0], id: "" }] };
    expect(errorOf(parseFrame(nodeMessageSchema, JSON.stringify(bad))).message).toMatch(/^invalid frame at models\.0\.id: /);
  });

  it("refuses an unknown message type", () => {
    const error = errorOf(parseFrame(edgeMessageSchema, '{"type":"reboot"}'));
    expect(error.code).toBe("bad_frame");
    expect(error.message).toMatch(/^invalid frame/);
  });

  it("refuses JSON that is not an object without throwing", () => {
    expect(errorOf(parseFrame(nodeMessageSchema, "null")).code).toBe("bad_frame");
    expect(errorOf(parseFrame(nodeMessageSchema, "42")).code).toBe("bad_frame");
  });

  it("accepts a frame of exactly the limit", () => {
    const frame = paddedFrame(MAX_FRAME_BYTES);
    expect(frame.length).toBe(MAX_FRAME_BYTES);
    expect(parseFrame(nodeMessageSchema, frame)).toEqual({ ok: true, value: { type: "draining" } });
  });

  it("refuses a frame one character over the limit before parsing it", () => {
    const error = errorOf(parseFrame(nodeMessageSchema, paddedFrame(MAX_FRAME_BYTES + 1)));
    expect(error.code).toBe("bad_frame");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("exceeds");
  });

  it("refuses a frame over the limit in UTF-8 bytes even when it has fewer characters", () => {
    const frame = paddedFrame(MAX_FRAME_BYTES - 1024, "é");
    expect(new TextEncoder().encode(frame).byteLength).toBeGreaterThan(MAX_FRAME_BYTES);
    expect(errorOf(parseFrame(nodeMessageSchema, frame)).message).toContain("exceeds");
  });

  it("counts characters outside the basic plane as the four bytes they are", () => {
    // About a million rockets, each two UTF-16 units and four UTF-8 bytes: just under the limit.
    const underLimit = JSON.stringify({ type: "draining", pad: "🚀".repeat(Math.floor((MAX_FRAME_BYTES - 100) / 4)) });
    expect(new TextEncoder().encode(underLimit).byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(parseFrame(nodeMessageSchema, underLimit).ok).toBe(true);
  });
});

describe("isCompatibleProtocol", () => {
  it("accepts our own version and any minor version of our major", () => {
    expect(isCompatibleProtocol(PROTOCOL_VERSION)).toBe(true);
    expect(isCompatibleProtocol("1.0")).toBe(true);
    expect(isCompatibleProtocol("1.9")).toBe(true);
  });

  it("refuses another major version", () => {
    expect(isCompatibleProtocol("0.9")).toBe(false);
    expect(isCompatibleProtocol("2.0")).toBe(false);
  });

  it("compares the whole major number, not a prefix of it", () => {
    expect(isCompatibleProtocol("10.0")).toBe(false);
    expect(isCompatibleProtocol("11.0")).toBe(false);
  });

  it("refuses an empty version", () => {
    expect(isCompatibleProtocol("")).toBe(false);
  });
});

describe("hasMinorVersion", () => {
  it("holds for the same major at or past the minor", () => {
    expect(hasMinorVersion("1.1", 1)).toBe(true);
    expect(hasMinorVersion("1.7", 1)).toBe(true);
    expect(hasMinorVersion(PROTOCOL_VERSION, 1)).toBe(true);
  });

  it("fails for an older minor or another major", () => {
    expect(hasMinorVersion("1.0", 1)).toBe(false);
    expect(hasMinorVersion("2.5", 1)).toBe(false);
    expect(hasMinorVersion("1", 1)).toBe(false);
  });
});
