import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log/logger.ts";

const now = () => new Date("2026-01-02T03:04:05.678Z");

function capture(format: "text" | "json" | undefined, level?: "debug" | "info") {
  const lines: string[] = [];
  const log = createLogger({ format, level, now, write: (line) => void lines.push(line) });
  return { log, lines };
}

describe("logger", () => {
  it("writes readable text lines by default, fields as key=value", () => {
    const { log, lines } = capture(undefined);
    log.info("joined as node_1");
    log.warn("job failed", { jobId: "j_1", model: "rung-tiny", reason: "out of memory", attempt: 2 });
    log.debug("dropped below info");
    expect(lines).toEqual([
      "2026-01-02T03:04:05.678Z INFO  joined as node_1\n",
      '2026-01-02T03:04:05.678Z WARN  job failed jobId=j_1 model=rung-tiny reason="out of memory" attempt=2\n',
    ]);
  });

  it("writes one JSON object a line with time, level, msg and the fields", () => {
    const { log, lines } = capture("json", "debug");
    log.error("cannot serve", { model: "m", error: new Error("boom") });
    log.debug("tick");
    expect(lines.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { time: "2026-01-02T03:04:05.678Z", level: "error", msg: "cannot serve", model: "m", error: { name: "Error", message: "boom" } },
      { time: "2026-01-02T03:04:05.678Z", level: "debug", msg: "tick" },
    ]);
  });

  it("keeps its own time, level and msg when a field has the same name", () => {
    const { log, lines } = capture("json");
    log.info("real", { msg: "fake", level: "fake", n: 1n });
    expect(JSON.parse(lines[0]!)).toEqual({ time: "2026-01-02T03:04:05.678Z", level: "info", msg: "real", n: "1" });
  });
});
