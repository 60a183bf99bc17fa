import { errorBodySchema } from "@rung/shared/openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { closeNodesAndResetPolicy, small } from "./ladder-fixtures.ts";
import { chat, edgeStatus, putPolicy, TestNode } from "./test-node.ts";

afterEach(closeNodesAndResetPolicy);

/** A node of `small` joins, then leaves; resolves once the router no longer sees it. */
async function servedThenGone(): Promise<void> {
  const node = await TestNode.join("restarting", [small]);
  node.close();
  await vi.waitFor(async () => expect((await edgeStatus()).catalog).toEqual([]), { timeout: 3_000, interval: 5 });
}

async function errorOf(response: Response) {
  return errorBodySchema.parse(await response.json()).error;
}

describe("a model whose last node just left", () => {
  it("is not unknown: a request for it waits, and the node that comes back answers it", async () => {
    await servedThenGone();
    const pending = chat({ model: small.id });
    // The node comes back only once the request waits in the queue for it, not before the request reached the edge.
    await vi.waitFor(async () => expect((await edgeStatus()).queued).toBe(1), { timeout: 3_000, interval: 5 });
    const back = await TestNode.join("restarted", [small]);
    back.answer(await back.next("job"), ["back", " again"]);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("back again");
  });

  it("answers 503 with Retry-After, which SDKs retry, when no node comes back within the queue's wait", async () => {
    await putPolicy({ queue: { maxWaitMs: 300 } });
    await servedThenGone();
    const started = Date.now();
    const response = await chat({ model: small.id });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    const error = await errorOf(response);
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toContain(`'${small.id}' left`);
  });

  it("stays a 404 for a model never served, and for a departed one once the operator turned the wait off", async () => {
    await servedThenGone();
    expect((await errorOf(await chat({ model: "never-served" }))).code).toBe("model_not_found");
    await putPolicy({ queue: { awaitReturnMs: 0 } });
    await servedThenGone();
    expect((await errorOf(await chat({ model: small.id }))).code).toBe("model_not_found");
  });
});
