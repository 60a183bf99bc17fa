import { env, runInDurableObject } from "cloudflare:test";
import { DEFAULT_POLICY } from "@rung/shared/routing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestBooks } from "../src/fabric/request-books.ts";
import { fabricJob } from "./unit/fake-host.ts";

afterEach(() => {
  vi.useRealTimers();
});

const live = { queueDepth: 0, breakers: [], nodes: [] };
const answered = {
  status: 200,
  model: "small",
  usage: { promptTokens: 3, completionTokens: 4 },
  totalMs: 20,
  attempts: [{ model: "small", node: "a", tier: "public" as const, outcome: "answered", ms: 20 }],
};

describe("RequestBooks", () => {
  it("keeps its metrics and answers per tier in storage, so an object rebuilt after hibernating goes on counting", async () => {
    const stub = env.FABRIC.get(env.FABRIC.idFromName("books-kept"));
    const counted = await runInDurableObject(stub, (_instance, state) => {
      vi.useFakeTimers();
      const before = new RequestBooks(
        state.storage,
        () => DEFAULT_POLICY,
        () => undefined,
      );
      const job = fabricJob();
      before.admit(job);
      before.finished(job, answered);
      // Saved a few seconds later, not per request.
      vi.advanceTimersByTime(5_000);
      const after = new RequestBooks(
        state.storage,
        () => DEFAULT_POLICY,
        () => undefined,
      );
      const requests = after.families("main", live).find((f) => f.name === "rung_requests_total");
      return { servedByTier: after.servedByTier, requests: requests?.samples };
    });
    expect(counted.servedByTier).toEqual({ private: 0, public: 1 });
    expect(counted.requests).toEqual([{ labels: { pool: "main", model: "small", status: "200" }, value: 1 }]);
  });
});
