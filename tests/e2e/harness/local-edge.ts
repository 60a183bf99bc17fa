import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { repoRoot } from "./paths.ts";

export interface LocalEdge {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  [Symbol.asyncDispose](): Promise<void>;
  dispose(): Promise<void>;
}

export interface LocalEdgeOptions {
  /** Loopback port; default a free one. A restarted edge takes its predecessor's port, so its nodes find it again. */
  port?: number;
  /** Folder that keeps the Durable Objects' storage across a restart, as a deployed edge's does; default none. */
  persistTo?: string;
}

/**
 * The real edge Worker and Durable Object in workerd, as `wrangler dev` runs
 * them, on a loopback port. Vars override wrangler.toml's for the test;
 * the edge is open (`RUNG_OPEN_EDGE`) unless they say otherwise, as `npm start`'s is.
 */
export async function startLocalEdge(vars: Record<string, string> = {}, options: LocalEdgeOptions = {}): Promise<LocalEdge> {
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.XDG_CONFIG_HOME ??= join(repoRoot, ".cache", "xdg");
  const bindings = Object.fromEntries(
    Object.entries({ RUNG_OPEN_EDGE: "true", ...vars }).map(([k, value]) => [k, { type: "plain_text" as const, value }]),
  );
  const worker = await unstable_startWorker({
    config: join(repoRoot, "wrangler.toml"),
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: options.port ?? 0 },
      inspector: false,
      watch: false,
      logLevel: "warn",
      persist: options.persistTo ?? false,
    },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  const dispose = () => worker.dispose();
  return { url, dispose, [Symbol.asyncDispose]: dispose };
}
