import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { as, expectError, newKey } from "./operating-fixtures.ts";
import { chat, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

describe("limits and usage", () => {
  it("refuses the request over a key's requests per minute with 429, Retry-After and OpenAI's headers, which every answer carries", async () => {
    const node = await TestNode.join("worker", [small]);
    const { key } = await newKey({ name: "rpm-2", rpm: 2 });
    const served: Response[] = [];
    // A whole answer, then a stream: both carry the headers.
    for (const stream of [false, true]) {
      const pending = chat({ model: small.id, stream }, as(key));
      node.answer(await node.next("job"), ["ok"]);
      served.push(await pending);
    }
    expect(served.map((r) => r.status)).toEqual([200, 200]);
    expect(served.map((r) => r.headers.get("x-ratelimit-remaining-requests"))).toEqual(["1", "0"]);
    expect(served[0]?.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(served[0]?.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?(ms|s)$|m/);

    const refused = await chat({ model: small.id }, as(key));
    const error = await expectError(refused, 429, "rate_limit_exceeded");
    expect(error.message).toContain("requests per minute");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(node.received.filter((m) => m.type === "job")).toEqual([]);
  });

  it("refuses a second request in flight over the key's concurrency, and takes one again once the first ended", async () => {
    const node = await TestNode.join("worker", [small], 4);
    const { key } = await newKey({ name: "one-at-a-time", concurrency: 1 });
    const first = chat({ model: small.id }, as(key));
    const job = await node.next("job");
    await expectError(await chat({ model: small.id }, as(key)), 429, "rate_limit_exceeded");
    node.answer(job, ["first"]);
    expect((await first).status).toBe(200);
    const again = chat({ model: small.id }, as(key));
    node.answer(await node.next("job"), ["again"]);
    expect((await again).status).toBe(200);
  });

  it("records usage by key and model at the operator's prices, and stops a key at its monthly budget", async () => {
    await putPolicy({ prices: { [small.id]: 2 } });
    const node = await TestNode.join("worker", [small]);
    // The test node reports 5 prompt tokens and one completion token per piece.
    const { key, id } = await newKey({ name: "budget-8", monthlyTokens: 8 });
    const pending = chat({ model: small.id }, as(key));
    node.answer(await node.next("job"), ["a", "b", "c"]);
    expect((await pending).status).toBe(200);

    const usage = (await (await SELF.fetch(`http://edge/admin/usage?key=${id}`, { headers: as(env.RUNG_ADMIN_KEY!) })).json()) as {
      data: Record<string, unknown>[];
    };
    expect(usage.data).toEqual([
      {
        pool: "main",
        date: new Date().toISOString().slice(0, 10),
        keyId: id,
        model: small.id,
        requests: 1,
        promptTokens: 5,
        completionTokens: 3,
        compute: small.parameters * 8,
        cost: (8 * 2) / 1e6,
      },
    ]);
    const over = await chat({ model: small.id }, as(key));
    const error = await expectError(over, 429, "insufficient_quota");
    expect(error.message).toMatch(/Monthly token budget/);
    await expectError(
      await SELF.fetch("http://edge/admin/usage?from=yesterday", { headers: as(env.RUNG_ADMIN_KEY!) }),
      400,
      "invalid_value",
    );
  });
});
