import { EngineError } from "@rung/shared/node";
import type { CacheEntryMetadata, CacheManager } from "@wllama/wllama/esm/index.js";
import { createSHA256 } from "hash-wasm";
import { WebEngineErrorCode } from "./web-engine-error-code.ts";

/** The calls of wllama's cache this needs: the same files (in the origin's private file system) wllama's own downloads use. */
export type ModelCache = Pick<CacheManager, "getNameFromURL" | "getMetadata" | "getSize" | "open" | "write" | "writeMetadata" | "delete">;

/**
 * Kept in the file's cache metadata beside wllama's own fields. Not wllama's `sha256`,
 * which it fills from what Hugging Face says the file should be: this is what the tab
 * itself computed over the bytes it stored.
 */
interface HashedMetadata extends CacheEntryMetadata {
  computedSha256?: string;
}

export interface HashedGgufOptions {
  cache: ModelCache;
  url: string;
  modelId: string;
  /** The pool's hash of the file (`donate.ggufModels[].sha256`); a file that differs is not served. */
  expectedSha256?: string;
  onProgress(loadedBytes: number, totalBytes: number): void;
}

export interface HashedGguf {
  blob: Blob;
  /** SHA-256 of `blob`, 64 lowercase hex characters. */
  sha256: string;
}

/** How often the download reports progress: the page redraws a bar, it need not hear of every chunk. */
const PROGRESS_EVERY_MS = 100;

/**
 * The model's file with its SHA-256: from the cache when a whole copy is there,
 * otherwise downloaded, hashed chunk by chunk on its way into the cache (the
 * digest is ready when the last byte is written, with no second pass), and
 * the hash kept with the file, so a cached reload still knows it. A cached copy
 * whose hash is not the pool's is downloaded again (the operator replaced the
 * file at the same URL); a download whose hash is not the pool's is deleted and
 * refused with `model_hash_mismatch`.
 */
export async function hashedGguf(options: HashedGgufOptions): Promise<HashedGguf> {
  const { cache, url, expectedSha256 } = options;
  const name = await cache.getNameFromURL(url);
  const cached = await cachedFile(cache, name, url);
  if (cached && (expectedSha256 === undefined || cached.sha256 === expectedSha256)) {
    options.onProgress(cached.blob.size, cached.blob.size);
    return cached;
  }
  const downloaded = await download(cache, name, options);
  if (expectedSha256 !== undefined && downloaded.sha256 !== expectedSha256) {
    await cache.delete(name);
    throw new EngineError(
      WebEngineErrorCode.hashMismatch,
      `the file downloaded for ${options.modelId} is not the one this pool names (its SHA-256 is ${downloaded.sha256}, ` +
        `the pool's policy says ${expectedSha256}), so this tab will not serve it`,
      false,
    );
  }
  return downloaded;
}

async function cachedFile(cache: ModelCache, name: string, url: string): Promise<HashedGguf | undefined> {
  const metadata: HashedMetadata | null = await cache.getMetadata(name);
  // No metadata for this URL, or a size short of it: an interrupted download, or another file.
  if (metadata?.originalURL !== url || metadata.originalSize <= 0) return undefined;
  if ((await cache.getSize(name)) !== metadata.originalSize) return undefined;
  const blob = await cache.open(name);
  if (!blob) return undefined;
  if (metadata.computedSha256) return { blob, sha256: metadata.computedSha256 };
  // Cached by a page that did not hash (before protocol 1.6): hash it once from the cache, and keep that.
  const digest = await hashStream(blob.stream());
  const hashed: HashedMetadata = { ...metadata, computedSha256: digest };
  await cache.writeMetadata(name, hashed);
  return { blob, sha256: digest };
}

async function download(cache: ModelCache, name: string, { url, onProgress }: HashedGgufOptions): Promise<HashedGguf> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`downloading ${url} failed: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length")) || 0;
  const hash = await createSHA256();
  let loaded = 0;
  let reportedAt = 0;
  const hashing = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      loaded += chunk.byteLength;
      const now = performance.now();
      if (now - reportedAt >= PROGRESS_EVERY_MS) {
        reportedAt = now;
        onProgress(loaded, total);
      }
      controller.enqueue(chunk);
    },
  });
  const metadata: CacheEntryMetadata = {
    originalURL: url,
    originalSize: total,
    // As wllama keeps it: letters and digits only.
    etag: (response.headers.get("etag") ?? "").replace(/[^A-Za-z0-9]/g, ""),
  };
  await cache.write(name, response.body.pipeThrough(hashing), metadata);
  const digest = hash.digest("hex");
  onProgress(loaded, loaded);
  // Written after the file, as wllama does: metadata present means the file is whole.
  const hashed: HashedMetadata = { ...metadata, originalSize: loaded, computedSha256: digest };
  await cache.writeMetadata(name, hashed);
  const blob = await cache.open(name);
  if (!blob) throw new Error(`the downloaded ${url} is missing from the browser's storage`);
  return { blob, sha256: digest };
}

/** SHA-256 of a stream, chunk by chunk: WebCrypto's digest needs the whole file in memory at once. */
async function hashStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  const hash = await createSHA256();
  const reader = stream.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) hash.update(read.value);
  return hash.digest("hex");
}
