import { describe, expect, it } from "vitest";
import { type WireError, WireErrorCode, wireError } from "../../protocol/wire-error.ts";
import { blamesNode, type ErrorState, errorVerdict } from "../../routing/error-verdict.ts";

const idle: ErrorState = { committed: false, othersRunning: false, hasKept: false, retries: 0, maxRetries: 2 };
const engineBroke = wireError(WireErrorCode.engineFailure, "the engine crashed", false);
const dropped = wireError(WireErrorCode.nodeDisconnected, "the node disconnected", true);
const badSchema = wireError(WireErrorCode.invalidSchema, "no grammar for this schema", false);

describe("blamesNode", () => {
  it("counts retryable failures of the node against its breaker", () => {
    expect(blamesNode(dropped)).toBe(true);
    expect(blamesNode(wireError(WireErrorCode.timeout, "silent", true))).toBe(true);
  });

  it("does not count a busy, draining, cancelling node or a prompt too long for it", () => {
    for (const code of [WireErrorCode.busy, WireErrorCode.draining, WireErrorCode.cancelled, WireErrorCode.contextLengthExceeded]) {
      expect(blamesNode(wireError(code, "not its fault", true))).toBe(false);
    }
  });

  it("does not count errors that no retry would fix", () => {
    expect(blamesNode(engineBroke)).toBe(false);
    expect(blamesNode(badSchema)).toBe(false);
  });

  it("reads retryable, not the message", () => {
    const sounding: WireError = { code: "engine_failure", message: "busy, draining, cancelled", retryable: true };
    expect(blamesNode(sounding)).toBe(true);
  });
});

describe("errorVerdict", () => {
  it("ends a committed answer with a fail event, whatever the error", () => {
    expect(errorVerdict(badSchema, { ...idle, committed: true, othersRunning: true })).toMatchObject({ kind: "fail-committed" });
    expect(errorVerdict(dropped, { ...idle, committed: true })).toEqual({ kind: "fail-committed", blamesNode: true });
  });

  it("waits for a hedge that still runs", () => {
    expect(errorVerdict(engineBroke, { ...idle, othersRunning: true })).toEqual({ kind: "await-hedge", blamesNode: false });
  });

  it("refuses with 400 when the request itself is at fault, even with a kept answer", () => {
    expect(errorVerdict(badSchema, { ...idle, hasKept: true })).toEqual({
      kind: "refuse",
      status: 400,
      message: "no grammar for this schema",
      blamesNode: false,
    });
  });

  it("answers with the kept weak answer when the node failed for good", () => {
    expect(errorVerdict(engineBroke, { ...idle, hasKept: true })).toEqual({ kind: "answer-kept", blamesNode: false });
  });

  it("refuses with 502 when the node failed for good and nothing was kept", () => {
    expect(errorVerdict(engineBroke, idle)).toEqual({
      kind: "refuse",
      status: 502,
      message: "The node failed: the engine crashed",
      blamesNode: false,
    });
  });

  it("retries a retryable error elsewhere until the retries run out", () => {
    expect(errorVerdict(dropped, idle)).toEqual({ kind: "retry", blamesNode: true });
    expect(errorVerdict(dropped, { ...idle, retries: 1 })).toMatchObject({ kind: "retry" });
    expect(errorVerdict(dropped, { ...idle, retries: 2 })).toEqual({ kind: "retries-exhausted", blamesNode: true });
    expect(errorVerdict(dropped, { ...idle, maxRetries: 0 })).toMatchObject({ kind: "retries-exhausted" });
  });

  it("retries a busy node without blaming it", () => {
    expect(errorVerdict(wireError(WireErrorCode.busy, "no free slot", true), idle)).toEqual({ kind: "retry", blamesNode: false });
  });
});
