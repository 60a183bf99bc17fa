import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real process standing in for cloudflared: prints the line a quick tunnel
 * prints, then runs `then` (a shell snippet: `exec sleep 30`, `sleep 0.2; exit 3`).
 */
export async function fakeCloudflared(then: string, url = "https://calm-river-1234.trycloudflare.com"): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "rung-fake-cloudflared-")), "cloudflared");
  await writeFile(path, `#!/bin/sh\necho "INF |  ${url}  |" >&2\n${then}\n`);
  await chmod(path, 0o755);
  return path;
}
