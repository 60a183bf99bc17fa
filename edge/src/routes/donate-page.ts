import { pageCsp, servePage } from "./serve-page.ts";

/** The donate page's files (web-node/dist/donate), under its CSP below. */
export function serveDonatePage(assets: Fetcher, request: Request): Promise<Response> {
  return servePage(assets, request, { path: "/donate/", name: "donate page", csp: donatePageCsp });
}

/**
 * What the page may do, and nothing more:
 * - scripts only from this origin, plus compiling WebAssembly (`'wasm-unsafe-eval'`,
 *   needed by wllama and WebLLM) — no `'unsafe-eval'`, no inline script;
 * - workers from this origin (the page's engine worker) and `blob:` (wllama builds its
 *   worker, and llama.cpp's pthread workers, from blob URLs);
 * - connections to this origin, its WebSocket (`/donate/connect`, named explicitly because
 *   older browsers do not count ws/wss as `'self'`), and any https origin plus loopback
 *   http: the operator's policy lists GGUF files by URL on hosts this edge cannot know
 *   when it serves the page (and the policy may change after), WebLLM fetches weights and
 *   model libraries from its own hosts, and the policy allows http only on 127.0.0.1 and
 *   localhost. (http://[::1] cannot be written in a CSP source, so such a model is blocked.)
 *   Plain http elsewhere stays closed, so nothing leaves the page unencrypted;
 * - no plugins, no `<base>` elsewhere, no form posts elsewhere, and no framing, so no
 *   other site can overlay the page and trick a donor into lending their machine.
 */
export function donatePageCsp(url: URL): string {
  return pageCsp(url, {
    script: ["'wasm-unsafe-eval'"],
    worker: ["'self'", "blob:"],
    connect: ["https:", "http://127.0.0.1:*", "http://localhost:*"],
  });
}
