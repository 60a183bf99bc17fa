import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";

/** Run the CLI in-process and keep what it prints on stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  const code = await main(argv);
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe("rung-agent --help", () => {
  it("lists every command and the settings with their environment variables", async () => {
    for (const flag of ["--help", "-h", "help"]) {
      const { code, out } = await cli(flag);
      expect(code).toBe(0);
      expect(out).toMatch(/^Usage: rung-agent \[start\]/);
      expect(out).toMatch(/\n {2}start {6}serve models to an edge/);
      expect(out).toMatch(/\n {2}doctor {5}check the GPU/);
      expect(out).toMatch(/\n {2}models {5}pull, list and remove model files/);
      for (const env of [
        "RUNG_EDGE",
        "RUNG_TOKEN",
        "RUNG_POOL",
        "RUNG_NAME",
        "RUNG_MODELS",
        "RUNG_THREADS",
        "RUNG_GPU",
        "RUNG_SLOTS",
        "RUNG_LOG_FORMAT",
        "RUNG_CONFIG",
      ]) {
        expect(out).toContain(env);
      }
    }
  });

  it("prints each command's own help", async () => {
    expect((await cli("start", "--help")).out).toMatch(/^Usage: rung-agent \[start\]/);
    expect((await cli("doctor", "--help")).out).toMatch(/^Usage: rung-agent doctor/);
    expect((await cli("models", "--help")).out).toMatch(/^Usage: rung-agent models/);
    expect((await cli("help", "doctor")).out).toMatch(/^Usage: rung-agent doctor/);
  });

  it("exits 2 with the reason for an unknown command or a bad setting", async () => {
    expect(await cli("serve")).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^rung-agent: unknown command "serve"; commands: start, doctor, models\n/),
    });
    const bad = await cli("doctor", "--gpu", "tpu");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^rung-agent: --gpu must be one of auto, cuda, vulkan, metal, false \(got "tpu"\)/);
  });
});
