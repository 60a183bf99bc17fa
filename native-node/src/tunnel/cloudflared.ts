import { type ChildProcess, spawn } from "node:child_process";

export interface QuickTunnel {
  /** The tunnel's public https URL. */
  url: string;
  /** Resolves with cloudflared's exit code (null when killed by a signal) once it exits, whatever the reason. */
  exited: Promise<number | null>;
  stop(): void;
}

/**
 * trycloudflare quick tunnels print their URL on stderr once connected. The
 * lookahead skips `https://api.trycloudflare.com`, which cloudflared names in
 * its own error line when it cannot reach the service.
 */
const PUBLIC_URL = /https:\/\/(?!api\.)[a-z0-9-]+\.trycloudflare\.com/;

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
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    // A child that never spawned (ENOENT) emits no exit.
    child.once("error", () => resolve(child.exitCode));
  });
  return new Promise((resolve, reject) => {
    let seen = "";
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${why}; install cloudflared, or run any tunnel to 127.0.0.1:${port} yourself and pass --public-url`));
    };
    const timer = setTimeout(
      () => fail(`${command} printed no public URL within ${(options.timeoutMs ?? 30_000) / 1000}s`),
      options.timeoutMs ?? 30_000,
    );
    const read = (data: Buffer) => {
      if (settled) return;
      seen = (seen + data.toString()).slice(-4_096);
      const url = PUBLIC_URL.exec(seen)?.[0];
      if (!url) return;
      settled = true;
      clearTimeout(timer);
      resolve({ url, exited, stop: () => child.kill("SIGTERM") });
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("error", (error: NodeJS.ErrnoException) => fail(error.code === "ENOENT" ? `${command} is not on the PATH` : error.message));
    child.on("exit", (code) => fail(`${command} exited (${code})`));
  });
}
