import { ApiError } from "../middleware/api-error.ts";

/** A page the edge serves from its static assets (web-node/dist/<page>), each with its own CSP. */
export interface Page {
  /** Where it lives, with the trailing slash: Vite's `base` for the page. */
  path: `/${string}/`;
  /** For the 404 of a missing file. */
  name: string;
  csp(url: URL): string;
}

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** What a page's CSP allows beyond what every page gets. */
export interface CspAllowances {
  /** Script sources besides this origin. */
  script?: string[];
  /** `worker-src`, when the page starts workers. */
  worker?: string[];
  /** Connection sources besides this origin and its WebSocket. */
  connect?: string[];
}

/**
 * Every page's CSP: its own origin only, and its WebSocket (named, as older
 * browsers do not count ws/wss as `'self'`); no inline script or style, no eval,
 * no plugins, no `<base>` or form posts elsewhere, no framing. A page widens it
 * only by what it names.
 */
export function pageCsp(url: URL, allow: CspAllowances = {}): string {
  const socketOrigin = `${url.protocol === "https:" ? "wss:" : "ws:"}//${url.host}`;
  return [
    "default-src 'self'",
    ["script-src 'self'", ...(allow.script ?? [])].join(" "),
    ...(allow.worker ? [["worker-src", ...allow.worker].join(" ")] : []),
    ["connect-src 'self'", socketOrigin, ...(allow.connect ?? [])].join(" "),
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * A page's file, with the headers the asset server alone would not send. Every
 * page gets the same isolation: COOP keeps other origins' windows out of its
 * browsing context group, COEP makes every subresource opt in to being loaded
 * (the donate page needs them for SharedArrayBuffer; the others lose nothing).
 * They go on every file, not only the HTML: a module worker loaded from
 * `<page>/assets` takes its own isolation (and CSP) from its script's response.
 */
export async function servePage(assets: Fetcher, request: Request, page: Page): Promise<Response> {
  const url = new URL(request.url);
  // Relative URLs in the page (Vite's base ends in a slash) resolve only below the slash.
  // Temporary, as the asset server's own trailing-slash redirects are; relative, so it holds behind any proxy.
  if (`${url.pathname}/` === page.path) return new Response(null, { status: 307, headers: { location: `${page.path}${url.search}` } });
  const asset = await assets.fetch(request);
  // A missing file is an unknown URL like any other on the edge, in OpenAI's shape.
  if (asset.status === 404)
    throw new ApiError({ status: 404, message: `The ${page.name} has no file ${url.pathname}`, code: "unknown_url" });
  // Asset responses have immutable headers: copy before adding ours.
  const response = new Response(asset.body, asset);
  for (const [name, value] of Object.entries(pageHeaders(url, asset.status, page))) response.headers.set(name, value);
  return response;
}

function pageHeaders(url: URL, status: number, page: Page): Record<string, string> {
  // Vite names every file under assets/ after a hash of its content, so a new build is a new URL.
  const cacheable = url.pathname.startsWith(`${page.path}assets/`) && (status === 200 || status === 304);
  return {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
    // The page's files are for the page: no other site may load its scripts or hotlink its wasm.
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": page.csp(url),
    "x-content-type-options": "nosniff",
    // index.html is revalidated on every visit (its ETag makes that cheap), so a deploy reaches
    // visitors at once; the hashed files it names never change. Only a found file is kept a year.
    "cache-control": cacheable ? `public, max-age=${YEAR_SECONDS}, immutable` : "no-cache",
  };
}
