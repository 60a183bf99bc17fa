import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQuickTunnel } from "../src/tunnel/cloudflared.ts";

/** Stand-ins for the cloudflared binary: real processes that print what cloudflared prints, or not. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rung-cloudflared-"));
  const script = (name: string, body: string) =>
    writeFile(join(dir, name), `#!/bin/sh\n${body}\n`).then(() => chmod(join(dir, name), 0o755));
  await script(
    "cloudflared",
    'echo "INF Requesting new quick Tunnel on trycloudflare.com..." >&2\necho "INF |  https://calm-river-1234.trycloudflare.com  |" >&2\nexec sleep 30',
  );
  await script("cloudflared-silent", "exec sleep 30");
  // What cloudflared prints when it cannot reach the quick-tunnel service: an https URL that is not the tunnel's.
  await script(
    "cloudflared-api-error",
    'echo "ERR failed to request quick Tunnel: Post \\"https://api.trycloudflare.com/tunnel\\": dial tcp: lookup api.trycloudflare.com: no such host" >&2\nexec sleep 30',
  );
  await script("cloudflared-dies", 'echo "INF |  https://calm-river-1234.trycloudflare.com  |" >&2\nsleep 0.2\nexit 3');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("startQuickTunnel", () => {
  it("reads the public URL cloudflared prints for the local port", async () => {
    const tunnel = await startQuickTunnel(8788, { command: join(dir, "cloudflared") });
    expect(tunnel.url).toBe("https://calm-river-1234.trycloudflare.com");
    tunnel.stop();
  });

  it("says what to do when cloudflared is missing or prints no URL", async () => {
    await expect(startQuickTunnel(8788, { command: join(dir, "no-such-binary") })).rejects.toThrow(/not on the PATH.*--public-url/);
    await expect(startQuickTunnel(8788, { command: join(dir, "cloudflared-silent"), timeoutMs: 300 })).rejects.toThrow(
      /no public URL.*--public-url/,
    );
  });

  it("does not take the API URL in cloudflared's own error line for the tunnel's", async () => {
    await expect(startQuickTunnel(8788, { command: join(dir, "cloudflared-api-error"), timeoutMs: 300 })).rejects.toThrow(/no public URL/);
  });

  it("reports when cloudflared exits after printing the URL", async () => {
    const tunnel = await startQuickTunnel(8788, { command: join(dir, "cloudflared-dies") });
    expect(await tunnel.exited).toBe(3);
  });
});
