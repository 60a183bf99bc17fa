import { z } from "zod";
import { idSchema, PROTOCOL_VERSION, sha256Schema } from "./messages.ts";
import { DEFAULT_POOL, poolQuery } from "./pool-name.ts";

/**
 * What the donate page reads from `GET /donate/config` before it proposes a
 * model: which GGUF files a tab without WebGPU may load with wllama, which of
 * WebLLM's prebuilt models a WebGPU tab may pick, and where to connect.
 * `/donate?pool=<pool>` reads `/donate/config?pool=<pool>`, whose `connectPath`
 * names the pool again.
 * The page parses it like any frame: the edge is a different program.
 */

/** Not [::1]: a Content-Security-Policy source cannot name an IPv6 address, so the page could not fetch from it. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** A GGUF a donor downloads: same-origin paths, https, or http only on this machine (local fabrics and tests). */
export const modelUrlSchema = z
  .string()
  .max(2048)
  .superRefine((text, ctx) => {
    if (text.startsWith("/") && !text.startsWith("//")) return;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute URL or a path starting with /" });
      return;
    }
    if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return;
    ctx.addIssue({ code: "custom", message: "must be https (http only for 127.0.0.1 or localhost)" });
  });

export const browserModelSchema = z
  .object({
    /** The id clients name; the tab announces the model under it. */
    id: idSchema,
    url: modelUrlSchema,
    /** Download size, shown to the donor before they consent; the page asks the server when absent. */
    sizeBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    /** Weights, as the ladder orders rungs; the tab estimates them from the model's shape when absent. */
    parameters: z.number().int().positive().max(1e13).optional(),
    /** Context the tab allocates, in tokens. */
    contextLength: z.number().int().min(64).max(131_072).default(2048),
    /**
     * Since 1.6: SHA-256 of the file. The tab hashes what it downloads and does not serve a file
     * that differs; the edge refuses a tab that announces another hash for this model.
     */
    sha256: sha256Schema.optional(),
  })
  .strict();
export type BrowserModel = z.infer<typeof browserModelSchema>;

export const donateConfigSchema = z.object({
  protocol: z.string(),
  /** False when the operator closed the pool to donated tabs; the page says so and offers nothing. */
  accepting: z.boolean(),
  /** Since 1.5: why the pool takes no tabs, when `accepting` is false, in words the page shows the donor. */
  reason: z.string().max(500).optional(),
  /** For tabs without a usable GPU (wllama), smallest first. */
  ggufModels: z.array(browserModelSchema).max(32),
  /** WebLLM prebuilt model ids a WebGPU tab may choose from; empty means any that fits. */
  webllmModels: z.array(idSchema).max(256),
  /** WebSocket path for donated tabs, relative to the page's origin; carries `?pool=` for any pool but `main`. */
  connectPath: z.string().startsWith("/"),
});
export type DonateConfig = z.infer<typeof donateConfigSchema>;

export const DONATE_CONNECT_PATH = "/donate/connect";
export const DONATE_CONFIG_PATH = "/donate/config";

export interface DonateSettings extends Omit<DonateConfig, "protocol" | "connectPath"> {
  /** The pool the page is for; its tabs connect to it. Default `main`, which the path leaves unnamed. */
  pool?: string;
}

/** The config the edge answers with: this protocol version, and the connect path of the pool. */
export function donateConfig({ pool, ...settings }: DonateSettings): DonateConfig {
  const connectPath = DONATE_CONNECT_PATH + poolQuery(pool === DEFAULT_POOL ? undefined : pool);
  return { protocol: PROTOCOL_VERSION, connectPath, ...settings };
}
