import { spawn, type ChildProcess } from "node:child_process";

export interface QuickTunnel {
  /** The tunnel's public https URL. */
  url: string;
  stop(): void;
}

/** trycloudflare quick tunnels print their URL on stderr once connected. */
const PUBLIC_URL = /https:\/\/[a-z0-9-]+\.trycloudflare\.com/;

/**
 * Start `cloudflared tunnel --url http://127.0.0.1:<port>` and wait for the
 * public URL it prints. Rejects with a message that says what to do instead
 * when cloudflared is missing or prints no URL in time.
 */
export function startQuickTunnel(port: number, options: { command?: string; timeoutMs?: number } = {}): Promise<QuickTunnel> {
  const command = options.command ?? "cloudflared";
  const child: ChildProcess = spawn(command, ["tunnel", "--no-autoupdate", "--url", `http://127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let seen = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${why}; install cloudflared, or run any tunnel to 127.0.0.1:${port} yourself and pass --public-url`));
    };
    const timer = setTimeout(() => fail(`${command} printed no public URL within ${(options.timeoutMs ?? 30_000) / 1000}s`), options.timeoutMs ?? 30_000);
    const read = (data: Buffer) => {
      seen = (seen + data.toString()).slice(-4_096);
      const url = PUBLIC_URL.exec(seen)?.[0];
      if (!url) return;
      clearTimeout(timer);
      resolve({ url, stop: () => child.kill("SIGTERM") });
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("error", (error: NodeJS.ErrnoException) => fail(error.code === "ENOENT" ? `${command} is not on the PATH` : error.message));
    child.on("exit", (code) => fail(`${command} exited (${code})`));
  });
}
