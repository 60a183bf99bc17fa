import { describe, expect, it } from "vitest";
import { donateConfig, donateConfigSchema } from "../../protocol/donate-config.ts";
import { SHIPPED_BAR, SHIPPED_JUDGE } from "../../routing/judge.ts";
import { DEFAULT_POLICY, parsePolicy, parsePolicyJson, policySchema } from "../../routing/policy.ts";
import { DEFAULT_PROFILE_WEIGHTS } from "../../routing/profile-weights.ts";

function message(input: unknown): string {
  const result = parsePolicy(input);
  if (result.ok) throw new Error("expected the policy to be refused");
  return result.message;
}

const upstream = (fields: Record<string, unknown> = {}) => ({
  name: "cloud",
  baseUrl: "https://api.example.com/v1",
  models: [{ id: "big-70b", parameters: 70_000_000_000, contextLength: 32768 }],
  ...fields,
});

describe("policySchema defaults", () => {
  it("parses {} to the documented defaults, nested objects included", () => {
    expect(DEFAULT_POLICY.defaultProfile).toBe("balanced");
    expect(DEFAULT_POLICY.escalation).toEqual({
      enabled: true,
      judge: SHIPPED_JUDGE,
      minMeanConfidence: SHIPPED_BAR,
      bars: {},
      minTokenConfidence: 0,
      windowTokens: 16,
      commitMs: 500,
      maxClimbs: 2,
      climbOnInvalidJson: true,
    });
    expect(DEFAULT_POLICY.preRouting).toEqual({
      enabled: true,
      longPromptTokens: 2000,
      code: true,
      math: true,
      multiStep: true,
      rungsUp: 1,
    });
    expect(DEFAULT_POLICY.breaker).toEqual({ failureThreshold: 3, openMs: 60000 });
    expect(DEFAULT_POLICY.retry).toEqual({ maxRetries: 2, baseDelayMs: 50, maxDelayMs: 2000 });
    expect(DEFAULT_POLICY.hedge).toEqual({ enabled: true, percentile: 0.95, minSamples: 8, afterMs: null, minDelayMs: 250 });
    expect(DEFAULT_POLICY.queue).toEqual({ maxLength: 64, maxWaitMs: 15000, awaitReturnMs: 60000 });
    expect(DEFAULT_POLICY.quality).toEqual({});
    expect(DEFAULT_POLICY.prices).toEqual({});
    expect(DEFAULT_POLICY.upstreams).toEqual([]);
    expect(DEFAULT_POLICY.profiles.balanced).toEqual(DEFAULT_PROFILE_WEIGHTS.balanced);
    expect(DEFAULT_POLICY.profiles.long_context).toEqual(DEFAULT_PROFILE_WEIGHTS.long_context);
  });

  it("fills the rest of a partly given object from that object's own defaults", () => {
    const result = parsePolicy({ escalation: { maxClimbs: 1 }, profiles: { speed: { quality: 0, minMeanConfidence: 0.3 } } });
    expect(result.ok && result.policy.escalation).toMatchObject({ maxClimbs: 1, minMeanConfidence: SHIPPED_BAR, windowTokens: 16 });
    expect(result.ok && result.policy.profiles.speed).toEqual({ ...DEFAULT_PROFILE_WEIGHTS.speed, quality: 0, minMeanConfidence: 0.3 });
    expect(result.ok && result.policy.profiles.balanced).toEqual(DEFAULT_PROFILE_WEIGHTS.balanced);
  });

  it("gives an upstream 16 slots unless told otherwise", () => {
    const result = parsePolicy({ upstreams: [upstream()] });
    expect(result.ok && result.policy.upstreams[0]?.slots).toBe(16);
  });

  it("is a fixed point: a parsed policy parses to itself", () => {
    expect(policySchema.parse(DEFAULT_POLICY)).toEqual(DEFAULT_POLICY);
  });
});

describe("parsePolicy refusals name the field and the problem", () => {
  it("a value out of range", () => {
    expect(message({ escalation: { minMeanConfidence: 1.5 } })).toBe("escalation.minMeanConfidence: Too big: expected number to be <=1");
  });

  it("a misspelt field", () => {
    expect(message({ escalation: { minMeanConfidance: 0.4 } })).toMatch(/^escalation: Unrecognized key.*minMeanConfidance/);
    expect(message({ hedging: {} })).toMatch(/^policy: Unrecognized key.*hedging/);
  });

  it("an unknown profile, as default or as a weight set", () => {
    expect(message({ defaultProfile: "cheap" })).toMatch(/^defaultProfile: /);
    expect(message({ profiles: { cheap: { cost: 1 } } })).toMatch(/^profiles: Unrecognized key.*cheap/);
    expect(message({ profiles: { budget: { cost: -1 } } })).toMatch(/^profiles\.budget\.cost: Too small/);
  });

  it("a wrong type, a fractional count and a retry ceiling below its base", () => {
    expect(message({ preRouting: { enabled: "yes" } })).toMatch(/^preRouting\.enabled: .*boolean/);
    expect(message({ escalation: { windowTokens: 2.5 } })).toMatch(/^escalation\.windowTokens: .*int/);
    expect(message({ retry: { baseDelayMs: 500, maxDelayMs: 100 } })).toBe("retry.maxDelayMs: maxDelayMs must be at least baseDelayMs");
  });

  it("quality and price tables: scores within 0..100, ids without spaces", () => {
    expect(message({ quality: { "qwen-7b": 101 } })).toMatch(/^quality\.qwen-7b: Too big/);
    expect(message({ prices: { "a model": 1 } })).toMatch(/^prices/);
    expect(parsePolicy({ quality: { "qwen-7b": 70 }, prices: { "gpt-x": 0.5 } }).ok).toBe(true);
  });

  it("lists every problem, not just the first", () => {
    expect(message({ queue: { maxLength: -1 }, hedge: { percentile: 0 } }).split("; ")).toHaveLength(2);
  });
});

describe("upstreams", () => {
  it("accepts https anywhere and http only on this machine", () => {
    for (const baseUrl of ["https://api.example.com/v1", "http://127.0.0.1:8080/v1", "http://localhost:11434", "http://[::1]:8000/v1"]) {
      expect(parsePolicy({ upstreams: [upstream({ baseUrl })] }).ok, baseUrl).toBe(true);
    }
  });

  it("refuses plain http elsewhere, credentials, queries, fragments and non-URLs", () => {
    expect(message({ upstreams: [upstream({ baseUrl: "http://api.example.com/v1" })] })).toMatch(/^upstreams\[0\]\.baseUrl: must be https/);
    expect(message({ upstreams: [upstream({ baseUrl: "https://user:pw@api.example.com" })] })).toMatch(/credentials/);
    expect(message({ upstreams: [upstream({ baseUrl: "https://api.example.com/v1?key=abc" })] })).toMatch(/query or fragment/);
    expect(message({ upstreams: [upstream({ baseUrl: "https://api.example.com/v1#x" })] })).toMatch(/query or fragment/);
    expect(message({ upstreams: [upstream({ baseUrl: "ftp://api.example.com" })] })).toMatch(/must be https/);
    expect(message({ upstreams: [upstream({ baseUrl: "api.example.com" })] })).toMatch(/absolute URL/);
  });

  it("refuses names and model ids that could not travel in a header", () => {
    expect(message({ upstreams: [upstream({ name: "my cloud" })] })).toMatch(/^upstreams\[0\]\.name: /);
    const models = [{ id: "big\nmodel", parameters: 1, contextLength: 1 }];
    expect(message({ upstreams: [upstream({ models })] })).toMatch(/^upstreams\[0\]\.models\[0\]\.id: /);
  });

  it("refuses a key secret that is not a variable name, and duplicate upstream names", () => {
    expect(message({ upstreams: [upstream({ keySecret: "sk-live-123" })] })).toMatch(/keySecret: must be an environment variable name/);
    expect(parsePolicy({ upstreams: [upstream({ keySecret: "OPENAI_API_KEY" })] }).ok).toBe(true);
    // The edge's own secrets would be sent to the upstream's URL as its key.
    for (const own of ["RUNG_API_KEYS", "RUNG_NODE_TOKEN", "RUNG_ADMIN_KEY"]) {
      expect(message({ upstreams: [upstream({ keySecret: own })] })).toMatch(
        /keySecret: must not name one of the edge's own RUNG_ secrets/,
      );
    }
    expect(parsePolicy({ upstreams: [upstream({ keySecret: "RUNG_UPSTREAM_OPENAI" })] }).ok).toBe(true);
    expect(message({ upstreams: [upstream(), upstream()] })).toMatch(/^upstreams\[1\]\.name: duplicate upstream name 'cloud'/);
  });

  it("takes capabilities, price and quality per upstream model, strictly", () => {
    const model = {
      id: "big-70b",
      upstreamModel: "meta-llama/Llama-3.1-70B-Instruct",
      parameters: 70_000_000_000,
      contextLength: 131072,
      pricePerMillionTokens: 0.9,
      quality: 79,
      capabilities: { jsonSchema: true, tools: true, logprobs: false },
    };
    expect(parsePolicy({ upstreams: [upstream({ models: [model] })] }).ok).toBe(true);
    expect(message({ upstreams: [upstream({ models: [{ ...model, capabilities: { jsonSchema: true } }] })] })).toMatch(
      /capabilities\.tools/,
    );
  });
});

describe("donate", () => {
  const gguf = (fields: Record<string, unknown> = {}) => ({ id: "tiny-q8", url: "https://models.example.com/tiny-q8.gguf", ...fields });

  it("is open to donated tabs with no models offered by default", () => {
    expect(DEFAULT_POLICY.donate).toEqual({ acceptPublicNodes: true, ggufModels: [], webllmModels: [] });
    const closed = parsePolicy({ donate: { acceptPublicNodes: false } });
    expect(closed.ok && closed.policy.donate).toEqual({ acceptPublicNodes: false, ggufModels: [], webllmModels: [] });
  });

  it("takes GGUF models by https, same-origin path or loopback http, with a 2048-token context unless told", () => {
    const models = [
      gguf(),
      gguf({ id: "local", url: "http://127.0.0.1:8787/m.gguf" }),
      gguf({ id: "here", url: "/models/m.gguf", sizeBytes: 1234, contextLength: 512 }),
    ];
    const result = parsePolicy({ donate: { ggufModels: models, webllmModels: ["Qwen2.5-0.5B-Instruct-q4f16_1-MLC"] } });
    if (!result.ok) throw new Error(result.message);
    expect(result.policy.donate.ggufModels.map((m) => m.contextLength)).toEqual([2048, 2048, 512]);
    expect(result.policy.donate.ggufModels[2]).toEqual({ id: "here", url: "/models/m.gguf", sizeBytes: 1234, contextLength: 512 });
  });

  it("takes a model's sha256 as 64 lowercase hex characters, the form sha256sum prints", () => {
    const sha256 = "ab".repeat(32);
    const result = parsePolicy({ donate: { ggufModels: [gguf({ sha256 })] } });
    expect(result.ok && result.policy.donate.ggufModels[0]?.sha256).toBe(sha256);
    for (const bad of [sha256.toUpperCase(), sha256.slice(1), `sha256:${sha256}`]) {
      expect(message({ donate: { ggufModels: [gguf({ sha256: bad })] } })).toMatch(
        /^donate\.ggufModels\[0\]\.sha256: must be a SHA-256 digest/,
      );
    }
  });

  it("refuses a model URL a donor should not fetch, naming the field", () => {
    expect(message({ donate: { ggufModels: [gguf({ url: "http://models.example.com/m.gguf" })] } })).toMatch(
      /^donate\.ggufModels\[0\]\.url: must be https/,
    );
    expect(message({ donate: { ggufModels: [gguf({ url: "//evil.example.com/m.gguf" })] } })).toMatch(/^donate\.ggufModels\[0\]\.url: /);
    expect(message({ donate: { ggufModels: [gguf({ url: "javascript:alert(1)" })] } })).toMatch(
      /^donate\.ggufModels\[0\]\.url: must be https/,
    );
  });

  it("is strict, in the section and in each model", () => {
    expect(message({ donate: { acceptPublicNode: true } })).toMatch(/^donate: Unrecognized key.*acceptPublicNode/);
    expect(message({ donate: { ggufModels: [gguf({ md5: "00" })] } })).toMatch(/^donate\.ggufModels\[0\]: Unrecognized key.*md5/);
    expect(message({ donate: { ggufModels: [gguf({ contextLength: 16 })] } })).toMatch(
      /^donate\.ggufModels\[0\]\.contextLength: Too small/,
    );
    expect(message({ donate: { webllmModels: ["a model"] } })).toMatch(/^donate\.webllmModels\[0\]: /);
  });

  it("refuses duplicate model ids, naming the second", () => {
    expect(message({ donate: { ggufModels: [gguf(), gguf({ url: "/other.gguf" })] } })).toBe(
      "donate.ggufModels[1].id: duplicate model id 'tiny-q8'",
    );
    expect(message({ donate: { webllmModels: ["a", "b", "a"] } })).toBe("donate.webllmModels[2]: duplicate model id 'a'");
  });

  it("holds no more models than the page's config accepts, so every policy makes a valid config", () => {
    const many = Array.from({ length: 33 }, (_, i) => gguf({ id: `m${i}` }));
    expect(message({ donate: { ggufModels: many } })).toMatch(/^donate\.ggufModels: Too big/);
    const result = parsePolicy({ donate: { ggufModels: many.slice(0, 32) } });
    if (!result.ok) throw new Error(result.message);
    const { acceptPublicNodes, ggufModels, webllmModels } = result.policy.donate;
    expect(donateConfigSchema.safeParse(donateConfig({ accepting: acceptPublicNodes, ggufModels, webllmModels })).success).toBe(true);
  });
});

describe("parsePolicyJson", () => {
  it("says so when the text is not JSON", () => {
    const result = parsePolicyJson("{ defaultProfile: speed }");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/^policy is not valid JSON: /);
  });

  it("parses valid JSON through the schema", () => {
    const result = parsePolicyJson('{"defaultProfile":"speed"}');
    expect(result.ok && result.policy.defaultProfile).toBe("speed");
    expect(parsePolicyJson('{"defaultProfile":"fast"}').ok).toBe(false);
  });
});
