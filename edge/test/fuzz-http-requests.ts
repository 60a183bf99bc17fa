/**
 * Requests for fuzz-http-api.test.ts: a valid request for each of the edge's routes (fuzz-http-routes.ts), then
 * seeded mutations of it: its body's fields set to values of other types, extreme numbers, huge strings and deep
 * nesting, fields dropped or added; bodies that are not JSON, random bytes, past the route's size limit, or
 * streamed without a length; odd methods, content types, keys, pools and ids.
 */
import { encoded, type MadeSoFar, OPENAI_BODY_LIMIT, type Route, routes } from "./fuzz-http-routes.ts";
import { deepArrayText, type FuzzRandom } from "./fuzz-random.ts";

export interface FuzzRequest {
  /** The route's name, for the tally. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: FuzzBody;
  /** Sent through `SELF` rather than in-process. */
  viaSelf: boolean;
  /** What the request is, for a failure message. */
  what: string;
}

/** A body as text or bytes, or streamed in pieces without a declared length. */
export type FuzzBody = { text: string } | { bytes: Uint8Array } | { pieces: string[] };

/** Stands for a value nested too deep to build and stringify here; replaced after serializing. */
const DEEP_MARKER = "__fuzz_deep_";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND"] as const;

export class HttpRequests {
  readonly #routes: readonly Route[];

  constructor(
    private readonly rng: FuzzRandom,
    private readonly made: MadeSoFar,
    private readonly adminKey: string,
    /** The model the fuzz node serves. */
    modelId: string,
  ) {
    this.#routes = routes(modelId);
  }

  /** The next request: the route's valid request, mutated or (now and then) not. */
  next(index: number): FuzzRequest {
    const rng = this.rng;
    const route = rng.pick(this.#routes);
    const mutations: string[] = [];
    let method = route.method;
    if (rng.chance(0.12)) {
      method = rng.pick(METHODS);
      mutations.push(`method ${method}`);
    }
    let path = route.path(rng, this.made);
    if (rng.chance(0.15)) {
      const pool = this.#poolParameter();
      path += `${path.includes("?") ? "&" : "?"}pool=${pool}`;
      mutations.push(`pool=${pool.slice(0, 40)}`);
    }
    const headers: Record<string, string> = {};
    const authorization = this.#authorization(route.auth);
    if (authorization !== undefined) headers.authorization = authorization;
    const contentType = this.#contentType();
    if (contentType !== undefined) headers["content-type"] = contentType;
    if (rng.chance(0.05))
      headers.origin = rng.pick(["https://app.example.com", "null", "http://evil.test", rng.awkwardString().replace(/[^\x20-\x7e]/g, "")]);
    let body: FuzzBody | undefined;
    // Fetch refuses a body on GET and HEAD; other methods get one when the route takes one, or sometimes anyway.
    if (method !== "GET" && method !== "HEAD" && (route.body || rng.chance(0.1))) {
      const value = route.body ? route.body(rng) : rng.json(2);
      body = this.#serialize(this.#mutate(value, mutations), route.bodyLimit ?? OPENAI_BODY_LIMIT, mutations);
    }
    const viaSelf = rng.chance(0.12);
    const auth = authorization === undefined ? "no key" : authorization === `Bearer ${this.adminKey}` ? "admin key" : "a key";
    const what =
      `#${index} ${route.name}: ${method} ${path.slice(0, 200)} (${auth}, content-type ${contentType ?? "none"}` +
      `${viaSelf ? ", through SELF" : ""}) ${mutations.length ? mutations.join("; ") : "unmutated"}`;
    return { route: route.name, method, path, headers, ...(body && { body }), viaSelf, what };
  }

  #poolParameter(): string {
    const rng = this.rng;
    return rng.pick([
      "main",
      "lab",
      "",
      "UPPER",
      "p".repeat(33),
      "-leading",
      "%ZZ",
      "a%20b",
      "main&pool=lab",
      encoded(rng.awkwardString()),
      rng.printable(1, 40).replace(/[&#%]/g, "_"),
    ]);
  }

  #authorization(auth: Route["auth"]): string | undefined {
    const rng = this.rng;
    const secret = this.made.keySecrets.length > 0 ? rng.pick(this.made.keySecrets) : "rk_nothing";
    const choices: [number, string | undefined][] = [
      [auth === "admin" ? 8 : 1, `Bearer ${this.adminKey}`],
      [auth === "admin" ? 1 : 6, undefined],
      [1, `Bearer ${secret}`],
      [1, `Bearer rk_${rng.printable(1, 60)}`],
      [1, `bearer   ${this.adminKey}  `],
      [1, "Basic YWRtaW46YWRtaW4="],
      [1, "Bearer"],
      [1, `Bearer ${"k".repeat(rng.pick([200, 20_000]))}`],
    ];
    return rng.weighted(choices);
  }

  #contentType(): string | undefined {
    return this.rng.weighted<string | undefined>([
      [10, "application/json"],
      [2, undefined],
      [1, "text/plain"],
      [1, "application/x-www-form-urlencoded"],
      [1, "multipart/form-data; boundary=x"],
      [1, "application/json; charset=utf-16"],
      [1, "application/octet-stream"],
      [1, `${this.rng.printable(1, 30)}/${this.rng.printable(1, 30)}`],
    ]);
  }

  /** One to three changes to a valid value, or none. */
  #mutate(value: unknown, mutations: string[]): unknown {
    const rng = this.rng;
    if (rng.chance(0.25)) return value;
    let mutated = structuredClone(value);
    for (let n = rng.int(1, 3); n > 0; n--) {
      const paths = pathsOf(mutated);
      const op = rng.weighted([
        [4, "nudge"],
        [4, "set"],
        [2, "delete"],
        [2, "add"],
        [1, "repeat"],
        [1, "deep"],
        [1, "replace"],
      ] as const);
      if (op === "replace" || paths.length === 0) {
        mutated = rng.json(3);
        mutations.push("body replaced");
        continue;
      }
      const path = rng.pick(paths);
      const [parent, key] = locate(mutated, path);
      const name = path.join(".");
      if (op === "deep") {
        // Deeper than JSON.stringify may go here: a marker, replaced by the nested text once serialized.
        const depth = rng.pick([3_000, 6_000, 30_000]);
        parent[key] = `${DEEP_MARKER}${depth}`;
        mutations.push(`${name} nested ${depth} deep`);
      } else if (op === "nudge") {
        parent[key] = this.#nudged(parent[key]);
        mutations.push(`${name} = ${describe(parent[key])}`);
      } else if (op === "set") {
        parent[key] = rng.wrongValue();
        mutations.push(`${name} = ${describe(parent[key])}`);
      } else if (op === "delete") {
        delete parent[key];
        mutations.push(`${name} deleted`);
      } else if (op === "add") {
        const target = parent[key];
        const field = rng.pick(["__proto__", "constructor", "unknown_field", "model", rng.awkwardString()]);
        const added = rng.wrongValue();
        if (Array.isArray(target)) {
          target.push(added);
          mutations.push(`${name} gains an element ${describe(added)}`);
        } else {
          const holder = isPlainObject(target) ? target : isPlainObject(parent) ? parent : undefined;
          // defineProperty, not assignment: `__proto__` must become a field of the JSON, not the object's prototype.
          if (holder) Object.defineProperty(holder, field, { value: added, enumerable: true, writable: true, configurable: true });
          mutations.push(`${holder === target ? name : "its parent"} gains ${JSON.stringify(field)} = ${describe(added)}`);
        }
      } else {
        const target = parent[key];
        const times = rng.pick([2, 100, 5_000]);
        parent[key] = Array.isArray(target)
          ? Array.from({ length: times }, (_, i) => target[i % Math.max(1, target.length)])
          : `${target}`.repeat(times);
        mutations.push(`${name} repeated ${times} times`);
      }
    }
    return mutated;
  }

  /** A value of the same type at an extreme: what passes a type check and may still break what comes after. */
  #nudged(value: unknown): unknown {
    const rng = this.rng;
    if (typeof value === "number") return rng.chance(0.7) ? rng.awkwardNumber() : rng.pick([0, 1, -1, 2, 1e-9]);
    if (typeof value === "string") return rng.chance(0.7) ? rng.awkwardString() : "x".repeat(rng.pick([129, 70_000, 1_000_000]));
    if (typeof value === "boolean") return !value;
    if (Array.isArray(value)) return rng.chance(0.5) ? [] : [...value, ...value];
    if (value !== null && typeof value === "object") return {};
    return rng.wrongValue();
  }

  /** JSON text mostly; else broken JSON, bytes, deep nesting, past the limit, or streamed in pieces. */
  #serialize(value: unknown, limit: number, mutations: string[]): FuzzBody {
    const rng = this.rng;
    const text = (JSON.stringify(value) ?? "null").replace(new RegExp(`"${DEEP_MARKER}(\\d+)"`, "g"), (_, depth: string) =>
      deepArrayText(Number(depth)),
    );
    const kind = rng.weighted([
      [30, "json"],
      [3, "broken"],
      [1, "bytes"],
      [1, "deep"],
      [1, "streamed"],
      [limit > OPENAI_BODY_LIMIT - 1 ? 0.15 : 0.5, "oversized"],
    ] as const);
    if (kind !== "json") mutations.push(`body ${kind}`);
    switch (kind) {
      case "json":
        return { text };
      case "broken":
        return {
          text: rng.pick([
            text.slice(0, rng.int(0, Math.max(0, text.length - 1))),
            `${text}}`,
            `${text},`,
            `\ufeff${text}`,
            `${text.slice(0, text.length >> 1)}\u0000${text.slice(text.length >> 1)}`,
            "{nope",
            "",
            " ",
            "'single'",
            '{"a":NaN}',
            "[1,]",
          ]),
        };
      case "bytes":
        return { bytes: rng.bytes(rng.int(1, 2_048)) };
      case "deep":
        return {
          text: rng.chance(0.5)
            ? deepArrayText(rng.int(1_000, 200_000))
            : `{"model":"auto","messages":${deepArrayText(rng.int(100, 100_000))}}`,
        };
      case "streamed": {
        const pieces: string[] = [];
        for (let at = 0; at < text.length; ) {
          const size = rng.int(1, Math.max(1, text.length >> 1));
          pieces.push(text.slice(at, at + size));
          at += size;
        }
        return { pieces };
      }
      case "oversized": {
        const padding = "x".repeat(limit + rng.int(1, 1_024));
        // Past the limit either declared (a length the edge reads first) or streamed (read until the limit).
        return rng.chance(0.5) ? { text: `{"padding":"${padding}"}` } : { pieces: ['{"padding":"', padding, '"}'] };
      }
    }
  }
}

type Path = (string | number)[];

/** Every field and element of a JSON value, parents before children, at most a few levels down. */
function pathsOf(value: unknown, prefix: Path = [], depth = 0): Path[] {
  if (value === null || typeof value !== "object" || depth > 4) return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key], depth + 1)]);
}

function locate(root: unknown, path: Path): [Record<string | number, unknown>, string | number] {
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  return [parent, path.at(-1)!];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 40)}… (${text.length} characters)` : text;
}
