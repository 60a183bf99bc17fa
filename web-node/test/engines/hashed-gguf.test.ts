import { createHash } from "node:crypto";
import { EngineError } from "@rung/shared/node";
import { WireErrorCode } from "@rung/shared/protocol";
import type { CacheEntryMetadata } from "@wllama/wllama/esm/index.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { hashedGguf, type ModelCache } from "../../src/engines/hashed-gguf.ts";

const URL_OF_MODEL = "http://127.0.0.1:9/models/tiny.gguf";

/**
 * wllama's CacheManager as this code uses it, in memory: a file and its
 * metadata under one name, the metadata written after the file, and for a file
 * without metadata the stand-in wllama reads (no URL, so it is no one's copy).
 */
class MemoryCache implements ModelCache {
  readonly files = new Map<string, Blob>();
  readonly metadata = new Map<string, CacheEntryMetadata>();

  async getNameFromURL(url: string): Promise<string> {
    return `key_${url.split("/").pop()}`;
  }
  async getMetadata(name: string): Promise<CacheEntryMetadata | null> {
    const file = this.files.get(name);
    return this.metadata.get(name) ?? (file ? { etag: "polyfill_for_older_version", originalSize: file.size, originalURL: "" } : null);
  }
  async getSize(name: string): Promise<number> {
    return this.files.get(name)?.size ?? -1;
  }
  async open(name: string): Promise<Blob | null> {
    return this.files.get(name) ?? null;
  }
  async write(name: string, stream: ReadableStream, metadata: CacheEntryMetadata): Promise<void> {
    this.files.set(name, await new Response(stream).blob());
    this.metadata.set(name, metadata);
  }
  async writeMetadata(name: string, metadata: CacheEntryMetadata): Promise<void> {
    this.metadata.set(name, metadata);
  }
  async delete(name: string): Promise<void> {
    this.files.delete(name);
    this.metadata.delete(name);
  }
}

/** Bytes in several chunks, as a network body arrives, so the hash is fed piece by piece. */
function bodyOf(bytes: Uint8Array, chunkBytes = 1000): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

const fileA = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) % 251);
const fileB = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 253);
const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("hashedGguf", () => {
  let cache: MemoryCache;
  let served: Uint8Array;
  let downloads: number;
  const progress: [number, number][] = [];
  const load = (expectedSha256?: string) =>
    hashedGguf({
      cache,
      url: URL_OF_MODEL,
      modelId: "tiny",
      ...(expectedSha256 && { expectedSha256 }),
      onProgress: (loaded, total) => progress.push([loaded, total]),
    });

  beforeEach(() => {
    cache = new MemoryCache();
    served = fileA;
    downloads = 0;
    progress.length = 0;
    vi.stubGlobal("fetch", async (url: string) => {
      expect(url).toBe(URL_OF_MODEL);
      downloads += 1;
      return new Response(bodyOf(served), { headers: { "content-length": String(served.length), etag: '"v-1"' } });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("hashes the file as it downloads it, keeps the hash with it, and knows it again from the cache", async () => {
    const first = await load();
    expect(first.sha256).toBe(sha256Of(fileA));
    expect(new Uint8Array(await first.blob.arrayBuffer())).toEqual(fileA);
    expect(progress.at(-1)).toEqual([fileA.length, fileA.length]);
    expect(cache.metadata.get("key_tiny.gguf")).toMatchObject({ originalURL: URL_OF_MODEL, originalSize: fileA.length, etag: "v1" });

    const again = await load(sha256Of(fileA));
    expect(again.sha256).toBe(sha256Of(fileA));
    expect(downloads).toBe(1);
  });

  it("hashes once from the cache a file an older page stored without a hash", async () => {
    cache.files.set("key_tiny.gguf", new Blob([fileA]));
    cache.metadata.set("key_tiny.gguf", { originalURL: URL_OF_MODEL, originalSize: fileA.length, etag: "" });
    expect((await load()).sha256).toBe(sha256Of(fileA));
    expect(downloads).toBe(0);
    expect(cache.metadata.get("key_tiny.gguf")).toMatchObject({ computedSha256: sha256Of(fileA) });
  });

  it("downloads again over an interrupted download: a file without metadata, or shorter than it", async () => {
    cache.files.set("key_tiny.gguf", new Blob([fileA.slice(0, 100)]));
    expect((await load()).sha256).toBe(sha256Of(fileA));
    cache.files.set("key_tiny.gguf", new Blob([fileA.slice(0, 100)]));
    expect((await load()).sha256).toBe(sha256Of(fileA));
    expect(downloads).toBe(2);
  });

  it("downloads again a cached copy whose hash is not the pool's: the file at the URL was replaced", async () => {
    await load();
    served = fileB;
    const replaced = await load(sha256Of(fileB));
    expect(replaced.sha256).toBe(sha256Of(fileB));
    expect(new Uint8Array(await replaced.blob.arrayBuffer())).toEqual(fileB);
    expect(downloads).toBe(2);
  });

  it("refuses a download whose hash is not the pool's, naming both, and keeps no copy of it", async () => {
    const wanted = sha256Of(fileB);
    const refused = await load(wanted).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EngineError);
    expect(refused).toMatchObject({ code: WireErrorCode.modelHashMismatch, retryable: false });
    expect((refused as Error).message).toBe(
      `the file downloaded for tiny is not the one this pool names (its SHA-256 is ${sha256Of(fileA)}, ` +
        `the pool's policy says ${wanted}), so this tab will not serve it`,
    );
    expect(cache.files.size).toBe(0);
    expect(cache.metadata.size).toBe(0);
  });

  it("fails a download the server refuses as a load failure", async () => {
    vi.stubGlobal("fetch", async () => new Response("no such file", { status: 404 }));
    await expect(load()).rejects.toThrow(`downloading ${URL_OF_MODEL} failed: HTTP 404`);
  });
});
