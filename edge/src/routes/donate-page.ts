import { ApiError } from "../middleware/api-error.ts";

/**
 * The donate page's files, from the static assets (web-node/dist/donate), with
 * the headers the asset server alone would not send. wllama runs llama.cpp on
 * several threads only with SharedArrayBuffer, which a browser grants only to
 * a cross-origin isolated page: COOP keeps other origins' windows out of its
 * browsing context group, COEP makes every subresource opt in to being loaded.
 * They go on every file, not only the HTML: a module worker loaded from
 * /donate/assets takes its own isolation (and CSP) from its script's response.
 */

const PAGE_PATH = "/donate/";
/** Vite names every file here after a hash of its content, so a new build is a new URL. */
const HASHED_PREFIX = "/donate/assets/";
const YEAR_SECONDS = 365 * 24 * 60 * 60;

export async function serveDonatePage(assets: Fetcher, request: Request): Promise<Response> {
  const url = new URL(request.url);
  // Relative URLs in the page (Vite's base is /donate/) resolve only below the slash.
  // Temporary, as the asset server's own trailing-slash redirects are; relative, so it holds behind any proxy.
  if (url.pathname === "/donate") return new Response(null, { status: 307, headers: { location: `${PAGE_PATH}${url.search}` } });
  const asset = await assets.fetch(request);
  // A missing file is an unknown URL like any other on the edge, in OpenAI's shape.
  if (asset.status === 404)
    throw new ApiError({ status: 404, message: `The donate page has no file ${url.pathname}`, code: "unknown_url" });
  // Asset responses have immutable headers: copy before adding ours.
  const response = new Response(asset.body, asset);
  for (const [name, value] of Object.entries(donatePageHeaders(url, asset.status))) response.headers.set(name, value);
  return response;
}

export function donatePageHeaders(url: URL, status: number): Record<string, string> {
  const cacheable = url.pathname.startsWith(HASHED_PREFIX) && (status === 200 || status === 304);
  return {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
    // The page's files are for the page: no other site may load its scripts or hotlink its wasm.
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": donatePageCsp(url),
    "x-content-type-options": "nosniff",
    // index.html is revalidated on every visit (its ETag makes that cheap), so a deploy reaches
    // donors at once; the hashed files it names never change. Only a found file is kept a year.
    "cache-control": cacheable ? `public, max-age=${YEAR_SECONDS}, immutable` : "no-cache",
  };
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
  const socketOrigin = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    `connect-src 'self' ${socketOrigin} https: http://127.0.0.1:* http://localhost:*`,
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
