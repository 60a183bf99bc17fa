import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { ensureTestModel } from "../../tools/gguf/make-test-model.ts";
import { runModels } from "../src/cli/commands/models-command.ts";
import { UsageError } from "../src/cli/usage-error.ts";

let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "rung-models-"));
  await ensureTestModel("tiny", dir);
  await ensureTestModel("small", dir);
});

async function models(...args: string[]): Promise<{ code: number; text: string }> {
  let text = "";
  const code = await runModels(args, (chunk) => {
    text += chunk;
  });
  return { code, text };
}

async function usageErrorOf(...args: string[]): Promise<string> {
  try {
    await models(...args);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("rung-agent models list", () => {
  it("shows each file with size, parameters and quantization from its header", async () => {
    writeFileSync(join(dir, "broken.gguf"), "not a gguf");
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const { code, text } = await models("list", "--dir", dir);
    expect(code).toBe(0);
    expect(text.split("\n")).toEqual([
      dir,
      expect.stringMatching(/^ {2}broken\.gguf {5} +10 B {2}not a readable GGUF file \(.+\)$/),
      "  rung-small.gguf    4.5 MB  1.1M parameters    F32",
      "  rung-tiny.gguf   668.0 KB  164.9K parameters  F32",
      "3 models, 5.1 MB",
      "",
    ]);
  });

  it("says how to get a model when the directory is empty or missing", async () => {
    const { code, text } = await models("list", "--dir", join(dir, "nope"));
    expect(code).toBe(0);
    expect(text).toBe(`No models in ${join(dir, "nope")}. Download one with: rung-agent models pull hf:<user>/<repo>:<quant>\n`);
  });
});

describe("rung-agent models rm", () => {
  it("deletes a model by file name, with or without .gguf", async () => {
    expect(await models("rm", "rung-tiny.gguf", "--dir", dir)).toEqual({
      code: 0,
      text: `Removed ${join(dir, "rung-tiny.gguf")} (668.0 KB)\n`,
    });
    expect(existsSync(join(dir, "rung-tiny.gguf"))).toBe(false);
    expect((await models("rm", "rung-small", "--dir", dir)).code).toBe(0);
    expect(existsSync(join(dir, "rung-small.gguf"))).toBe(false);
  });

  it("says so when there is no such model", async () => {
    expect(await models("rm", "rung-huge", "--dir", dir)).toEqual({
      code: 1,
      text: `No model "rung-huge" in ${dir}; see rung-agent models list\n`,
    });
  });

  it("refuses paths outside the models directory", async () => {
    const outside = mkdtempSync(join(tmpdir(), "rung-outside-"));
    writeFileSync(join(outside, "keep.gguf"), "x");
    expect(await usageErrorOf("rm", join(outside, "keep.gguf"), "--dir", dir)).toMatch(
      /^refusing to delete .*keep\.gguf: it is not inside the models directory/,
    );
    expect(await usageErrorOf("rm", `../${outside.split("/").pop()}/keep.gguf`, "--dir", dir)).toMatch(/not inside the models directory/);
    expect(await usageErrorOf("rm", ".", "--dir", dir)).toMatch(/not inside the models directory/);
    expect(existsSync(join(outside, "keep.gguf"))).toBe(true);
  });
});

describe("rung-agent models pull (argument checks only: no network here)", () => {
  it("takes exactly one hf: URI or URL", async () => {
    expect(await usageErrorOf("pull", "--dir", dir)).toMatch(/^models pull takes exactly one argument/);
    expect(await usageErrorOf("pull", "hf:a/b:Q4_K_M", "hf:c/d:Q4_K_M")).toMatch(/exactly one argument/);
    expect(await usageErrorOf("pull", "./model.gguf")).toMatch(
      /^models pull takes a hf:<user>\/<repo>:<quant> URI or an https:\/\/ URL \(got "\.\/model\.gguf"\)/,
    );
  });
});

describe("rung-agent models", () => {
  it("needs a known subcommand and prints its help", async () => {
    expect(await usageErrorOf()).toMatch(/^models needs a command: pull, list or rm/);
    expect(await usageErrorOf("ls")).toBe('unknown models command "ls"; use pull, list or rm');
    expect(await usageErrorOf("list", "extra")).toBe("models list takes no arguments");
    const help = await models("--help");
    expect(help.code).toBe(0);
    expect(help.text).toMatch(/^Usage: rung-agent models <pull\|list\|rm>/);
  });
});
