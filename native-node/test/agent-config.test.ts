import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/cli/usage-error.ts";
import { closestKey } from "../src/config/closest-key.ts";
import { CONFIG_KEYS } from "../src/config/config-fields.ts";
import { parseStart, startErrorOf } from "./helpers/parse-start.ts";

const dir = mkdtempSync(join(tmpdir(), "rung-config-"));
let files = 0;

/** Write a config file and return its path. */
function configFile(content: unknown): string {
  const path = join(dir, `agent-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("configuration sources", () => {
  const file = configFile({
    edge: "http://file:1",
    name: "from-file",
    threads: 3,
    slots: 4,
    gpu: false,
    models: ["/m/file.gguf"],
    logFormat: "json",
  });

  it("takes flags over env over the file over defaults, one setting at a time", () => {
    const env = { RUNG_CONFIG: file, RUNG_NAME: "from-env", RUNG_THREADS: "2" };
    expect(parseStart(["--threads", "1"], env)).toMatchObject({
      edge: "http://file:1", // file
      name: "from-env", // env over file
      threads: 1, // flag over env over file
      slots: 4, // file over default
      gpu: false,
      contextSize: undefined, // default
      drainTimeoutMs: 30_000,
      logFormat: "json",
      models: [{ id: "file", path: "/m/file.gguf" }],
    });
  });

  it("reads every environment variable", () => {
    const options = parseStart([], {
      RUNG_EDGE: "https://edge.example",
      RUNG_TOKEN: "t",
      RUNG_NAME: "box",
      RUNG_MODELS: "a.gguf, fast=/m/b.gguf,hf:user/repo:Q4_K_M",
      RUNG_THREADS: "2",
      RUNG_GPU: "vulkan",
      RUNG_SLOTS: "5",
      RUNG_LOG_FORMAT: "json",
    });
    expect(options).toMatchObject({
      edge: "https://edge.example",
      token: "t",
      name: "box",
      models: [
        { id: "a", path: "a.gguf" },
        { id: "fast", path: "/m/b.gguf" },
        { id: "repo", path: "hf:user/repo:Q4_K_M" },
      ],
      threads: 2,
      gpu: "vulkan",
      slots: 5,
      logFormat: "json",
    });
  });

  it("--config wins over RUNG_CONFIG, which wins over the default path", () => {
    const xdg = mkdtempSync(join(tmpdir(), "rung-xdg-"));
    mkdirSync(join(xdg, "rung"));
    writeFileSync(join(xdg, "rung", "agent.json"), JSON.stringify({ edge: "http://default:1", models: ["d.gguf"] }));
    const env = { XDG_CONFIG_HOME: xdg };
    expect(parseStart([], env).edge).toBe("http://default:1");
    expect(parseStart([], { ...env, RUNG_CONFIG: file }).edge).toBe("http://file:1");
    const other = configFile({ edge: "http://other:1", models: ["o.gguf"] });
    expect(parseStart(["--config", other], { ...env, RUNG_CONFIG: file }).edge).toBe("http://other:1");
  });

  it("takes the pool from the file, and names the file's key when it is no pool name", () => {
    expect(parseStart(["--config", configFile({ edge: "http://file:1", models: ["m.gguf"], pool: "lab" })]).pool).toBe("lab");
    const path = configFile({ edge: "http://file:1", models: ["m.gguf"], pool: "Lab 1" });
    expect(startErrorOf(["--config", path]).message).toBe(
      `file:pool must be 1 to 32 lowercase letters, digits or dashes, starting with a letter or digit (in ${path}); e.g. "pool": "lab"`,
    );
  });

  it("takes a memory limit in the file as a size or a number of bytes", () => {
    expect(
      parseStart(["--config", configFile({ edge: "http://file:1", models: ["m.gguf"], memoryLimit: 8_000_000_000 })]).memoryLimitBytes,
    ).toBe(8e9);
    expect(parseStart(["--config", configFile({ edge: "http://file:1", models: ["m.gguf"], memoryLimit: "8G" })]).memoryLimitBytes).toBe(
      8e9,
    );
    expect(startErrorOf(["--config", configFile({ edge: "http://file:1", models: ["m.gguf"], memoryLimit: "8" })]).message).toMatch(
      /memoryLimit.*must be a size with a unit/,
    );
  });

  it("accepts model objects and resolves relative model paths against the file", () => {
    const path = configFile({ edge: "http://e:1", models: ["tiny=./models/t.gguf", { id: "big", path: "hf:user/big:Q4_K_M" }] });
    expect(parseStart(["--config", path]).models).toEqual([
      { id: "tiny", path: join(dir, "models", "t.gguf") },
      { id: "big", path: "hf:user/big:Q4_K_M" },
    ]);
  });

  it("refuses a missing named file, bad JSON and a non-object", () => {
    expect(startErrorOf(["--config", join(dir, "nope.json")]).message).toMatch(/nope\.json cannot be read \(ENOENT\)/);
    expect(startErrorOf(["--config", configFile("{ edge: ")]).message).toMatch(/is not valid JSON/);
    expect(startErrorOf(["--config", configFile("[1]")]).message).toMatch(/must hold a JSON object/);
  });

  it("names unknown keys in the file, so typos do not pass silently", () => {
    const path = configFile({ edge: "http://e:1", models: ["m.gguf"], thread: 1, gpus: "auto", colour: "red" });
    const error = startErrorOf(["--config", path]);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(
      /^file:thread \(did you mean threads\?\), file:gpus \(did you mean gpu\?\), file:colour are not settings \(in .*\); the settings are edge, token, name, models/,
    );
  });

  it("suggests the key a typo meant", () => {
    expect(closestKey("context_size", CONFIG_KEYS)).toBe("contextSize");
    expect(closestKey("drain-timeout", CONFIG_KEYS)).toBe("drainTimeout");
    expect(closestKey("model", CONFIG_KEYS)).toBe("models");
    expect(closestKey("colour", CONFIG_KEYS)).toBeUndefined();
  });

  it("names the source of a bad value: flag, env var or file:key, with a fix for that source", () => {
    const path = configFile({ edge: "http://e:1", models: ["m.gguf"], threads: 0, gpu: "tpu", slots: "x" });
    const fromFile = startErrorOf(["--config", path]).message.split("\n");
    expect(fromFile).toEqual([
      `file:threads must be at least 1 (in ${path}); e.g. "threads": 1`,
      `file:gpu must be one of auto, cuda, vulkan, metal, false (got "tpu") (in ${path}); e.g. "gpu": "auto"`,
      `file:slots must be a whole number (in ${path}); e.g. "slots": 2`,
    ]);
    const fromEnv = startErrorOf(["--config", path, "--gpu", "cuda", "--slots", "1"], { RUNG_THREADS: "many" }).message;
    expect(fromEnv).toBe("RUNG_THREADS must be a whole number; e.g. RUNG_THREADS=1");
    const fromFlag = startErrorOf(["--config", path, "--threads", "1.5", "--gpu", "cuda", "--slots", "1"]).message;
    expect(fromFlag).toBe("--threads must be a whole number; e.g. --threads 1");
  });

  it("names the entry of a bad model in the file", () => {
    const path = configFile({ edge: "http://e:1", models: ["ok.gguf", { id: "x" }] });
    expect(startErrorOf(["--config", path]).message).toMatch(
      /^file:models\[1\] must be "path", "id=path" or \{"id": \.\.\., "path": \.\.\.\}/,
    );
  });

  it("says every way to give a required setting that nothing gave", () => {
    expect(startErrorOf([], {}).message.split("\n")).toEqual([
      '--edge is required: the URL of the Rung edge; e.g. --edge http://127.0.0.1:8787, RUNG_EDGE=http://127.0.0.1:8787 or "edge": "http://127.0.0.1:8787" in the config file',
      expect.stringMatching(/^--model is required: at least one model to serve; e\.g\. --model .*RUNG_MODELS=.* "models": /),
    ]);
  });

  it("rejects a bad --log-format", () => {
    expect(startErrorOf(["--edge", "http://e:1", "-m", "m.gguf", "--log-format", "xml"]).message).toBe(
      '--log-format must be one of text, json (got "xml"); e.g. --log-format json',
    );
  });
});
