import { modelInfoSchema } from "@rung/shared/protocol";
import { describe, expect, it } from "vitest";
import { defaultModelId, parseModelFlag } from "../src/cli/model-flag.ts";
import { parseStartOptions } from "../src/cli/start-options.ts";
import { createEchoEngine } from "../src/engines/create-echo-engine.ts";
import { defaultThreads } from "../src/engines/default-threads.ts";
import { parseStart, startErrorOf } from "./helpers/parse-start.ts";

const EDGE = ["--edge", "http://127.0.0.1:8787"];

describe("start options", () => {
  it("fills in documented defaults", () => {
    const options = parseStart([...EDGE, "--model", "/models/rung-tiny.gguf"]);
    expect(options).toMatchObject({
      edge: "http://127.0.0.1:8787",
      models: [{ id: "rung-tiny", path: "/models/rung-tiny.gguf" }],
      token: undefined,
      pool: undefined,
      threads: defaultThreads(),
      gpu: "auto",
      slots: 2,
      contextSize: undefined,
      drainTimeoutMs: 30_000,
      memoryLimitBytes: undefined,
      transport: "auto",
      publicUrl: undefined,
      tunnelPort: undefined,
      faults: { firstTokenDelayMs: 0, failJobs: 0 },
    });
    expect(options.name.length).toBeGreaterThan(0);
  });

  it("parses every flag", () => {
    const options = parseStart([
      ...EDGE,
      "-m",
      "a.gguf",
      "--model",
      "fast=./b.gguf",
      "--name",
      "lab-1",
      "--token",
      "t0k",
      "--pool",
      "lab-2",
      "--threads",
      "1",
      "--gpu",
      "false",
      "--slots",
      "3",
      "--context-size",
      "1024",
      "--drain-timeout",
      "2.5",
      "--log-format",
      "json",
      "--memory-limit",
      "1.5G",
      "--transport",
      "tunnel",
      "--public-url",
      "https://node.example.com",
      "--tunnel-port",
      "8788",
      "--fault-first-token-delay-ms",
      "1500",
      "--fault-fail-jobs",
      "2",
    ]);
    expect(options).toEqual({
      edge: "http://127.0.0.1:8787",
      models: [
        { id: "a", path: "a.gguf" },
        { id: "fast", path: "./b.gguf" },
      ],
      name: "lab-1",
      token: "t0k",
      pool: "lab-2",
      threads: 1,
      gpu: false,
      slots: 3,
      contextSize: 1024,
      drainTimeoutMs: 2_500,
      logFormat: "json",
      memoryLimitBytes: 1.5e9,
      transport: "tunnel",
      publicUrl: "https://node.example.com",
      tunnelPort: 8788,
      faults: { firstTokenDelayMs: 1500, failJobs: 2 },
    });
  });

  it("takes the fault-injection testing aids from flags over the environment", () => {
    const env = { RUNG_EDGE: EDGE[1], RUNG_FAULT_FIRST_TOKEN_DELAY_MS: "250", RUNG_FAULT_FAIL_JOBS: "4" };
    expect(parseStart(["-m", "a.gguf"], env).faults).toEqual({ firstTokenDelayMs: 250, failJobs: 4 });
    expect(parseStart(["-m", "a.gguf", "--fault-fail-jobs", "1"], env).faults).toEqual({ firstTokenDelayMs: 250, failJobs: 1 });
    expect(startErrorOf([...EDGE, "-m", "a.gguf", "--fault-fail-jobs", "many"]).message).toMatch(
      /--fault-fail-jobs must be a whole number/,
    );
  });

  it("reads sizes in decimal units, as they are printed, and wants the unit", () => {
    const limit = (size: string) => parseStart([...EDGE, "-m", "a.gguf", "--memory-limit", size]).memoryLimitBytes;
    expect([limit("8G"), limit("8GB"), limit("512m"), limit("2048K"), limit("1T")]).toEqual([8e9, 8e9, 512e6, 2_048_000, 1e12]);
    expect(parseStart(["-m", "a.gguf"], { RUNG_EDGE: EDGE[1], RUNG_MEMORY_LIMIT: "8G" }).memoryLimitBytes).toBe(8e9);
    for (const size of ["8", "8GiB", "0G"]) {
      expect(startErrorOf([...EDGE, "-m", "a.gguf", "--memory-limit", size]).message).toMatch(
        /^--memory-limit must be a size with a unit, such as 8G or 512M/,
      );
    }
    expect(startErrorOf(["-m", "a.gguf"], { RUNG_EDGE: EDGE[1], RUNG_MEMORY_LIMIT: "8" }).message).toMatch(
      /RUNG_MEMORY_LIMIT must be a size with a unit/,
    );
  });

  it("refuses a bad size, transport or public URL, saying how to fix it", () => {
    expect(startErrorOf([...EDGE, "-m", "a.gguf", "--memory-limit", "lots"]).message).toMatch(
      /^--memory-limit must be a size with a unit, such as 8G or 512M/,
    );
    expect(startErrorOf([...EDGE, "-m", "a.gguf", "--transport", "carrier-pigeon"]).message).toMatch(
      /^--transport must be one of auto, websocket, tunnel/,
    );
    expect(startErrorOf([...EDGE, "-m", "a.gguf", "--public-url", "ftp://x"]).message).toMatch(
      /^--public-url must be an http\(s\):\/\/ URL/,
    );
  });

  it("takes the pool from --pool over RUNG_POOL, and only a pool name", () => {
    const env = { RUNG_EDGE: EDGE[1], RUNG_POOL: "from-env" };
    expect(parseStart(["-m", "a.gguf"], env).pool).toBe("from-env");
    expect(parseStart(["-m", "a.gguf", "--pool", "flag"], env).pool).toBe("flag");
    for (const bad of ["Lab", "-lab", "lab pool", "a".repeat(33), "lab/1"]) {
      expect(startErrorOf([...EDGE, "-m", "a.gguf", `--pool=${bad}`]).message).toBe(
        "--pool must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit; e.g. --pool lab",
      );
    }
    expect(startErrorOf(["-m", "a.gguf"], { RUNG_EDGE: EDGE[1], RUNG_POOL: "LAB" }).message).toMatch(/^RUNG_POOL must be 1 to 32/);
  });

  it("takes --edge and --token from the environment, flags first", () => {
    const env = { RUNG_EDGE: "https://edge.example", RUNG_TOKEN: "from-env" };
    expect(parseStart(["--model", "m.gguf"], env)).toMatchObject({ edge: "https://edge.example", token: "from-env" });
    expect(parseStart([...EDGE, "--model", "m.gguf", "--token", "flag"], env)).toMatchObject({ edge: EDGE[1], token: "flag" });
  });

  it("names a missing --edge and how to give it", () => {
    const error = startErrorOf(["--model", "m.gguf"]);
    expect(error.message).toMatch(/^--edge is required/);
    expect(error.message).toContain("RUNG_EDGE");
  });

  it("rejects a bad --gpu with the valid choices", () => {
    expect(startErrorOf([...EDGE, "--model", "m.gguf", "--gpu", "tpu"]).message).toBe(
      '--gpu must be one of auto, cuda, vulkan, metal, false (got "tpu"); e.g. --gpu auto',
    );
  });

  it("reports every bad flag at once", () => {
    const lines = startErrorOf(["--edge", "ftp://x", "--threads", "two", "--slots", "0"]).message.split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["--edge", "--model", "--threads", "--slots"]);
  });

  it("rejects duplicate model ids, unknown flags and stray arguments", () => {
    expect(startErrorOf([...EDGE, "--model", "x/m.gguf", "--model", "y/m.gguf"]).message).toMatch(/same model id twice/);
    expect(startErrorOf([...EDGE, "--model", "m.gguf", "--gpus", "auto"]).message).toMatch(/--gpus/);
    expect(startErrorOf([...EDGE, "--model", "m.gguf", "extra"]).message).toMatch(/extra/);
    expect(startErrorOf([...EDGE, "--model", "m.gguf", "--drain-timeout=-1"]).message).toMatch(/^--drain-timeout/);
  });

  it("refuses ids and names the edge would refuse, saying how to fix them", () => {
    expect(startErrorOf([...EDGE, "--model", "/models/My Model.gguf"]).message).toMatch(/^--model .*id=path/);
    expect(startErrorOf([...EDGE, "--model", "m.gguf", "--name", "my box"]).message).toMatch(/^--name .*printable ASCII/);
  });

  it("caps slots across models at what hello allows", () => {
    expect(startErrorOf([...EDGE, "--model", "a.gguf", "--model", "b.gguf", "--slots", "200"]).message).toMatch(/^--slots/);
  });

  it("serves echo:<id> models with the echo engine and refuses mixing them with GGUF models", () => {
    const options = parseStart([...EDGE, "--model", "echo:bench-a", "-m", "echo:bench-b", "--slots", "8"]);
    expect(options.models).toEqual([
      { id: "bench-a", path: "echo:bench-a" },
      { id: "bench-b", path: "echo:bench-b" },
    ]);
    const engine = createEchoEngine(options.models, options.slots);
    expect(engine.slots).toBe(16);
    expect(engine.models).toEqual([
      expect.objectContaining({ id: "bench-a", parameters: 1, quantization: "none", tokensPerSecond: 0, slots: 8 }),
      expect.objectContaining({ id: "bench-b", capabilities: { jsonSchema: false, tools: false, logprobs: true } }),
    ]);
    for (const model of engine.models) expect(modelInfoSchema.parse(model)).toEqual(model);
    expect(parseStart(["-m", "echo:x"], { RUNG_EDGE: EDGE[1] }).models).toEqual([{ id: "x", path: "echo:x" }]);
    expect(startErrorOf([...EDGE, "-m", "echo:x", "-m", "m.gguf"]).message).toMatch(/^--model mixes echo: models with GGUF models/);
    expect(startErrorOf([...EDGE, "-m", "echo:"]).message).toMatch(/^--model gives a model id/);
  });

  it("returns help for -h", () => {
    expect(parseStartOptions(["-h"], {})).toBe("help");
  });
});

describe("--model values", () => {
  it("splits id=path only when the id is a bare name", () => {
    expect(parseModelFlag("tiny=/tmp/a=b/m.gguf")).toEqual({ id: "tiny", path: "/tmp/a=b/m.gguf" });
    expect(parseModelFlag("/tmp/a=b/m.gguf")).toEqual({ id: "m", path: "/tmp/a=b/m.gguf" });
    expect(parseModelFlag("q=hf:user/repo:Q4_K_M")).toEqual({ id: "q", path: "hf:user/repo:Q4_K_M" });
  });

  it("defaults the id to the file or repository name", () => {
    expect(defaultModelId("./models/Qwen2.5-0.5B.Q4_K_M.gguf")).toBe("Qwen2.5-0.5B.Q4_K_M");
    expect(defaultModelId("hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M")).toBe("Qwen2.5-0.5B-Instruct-GGUF");
    expect(defaultModelId("hf:user/repo/model-file.gguf")).toBe("repo");
    expect(defaultModelId("https://example.com/files/m.gguf?download=1")).toBe("m");
  });
});
