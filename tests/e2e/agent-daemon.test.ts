import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attemptsOf, type LocalFabric, nodeOf, rungOf, startFabric, testModel } from "./harness/fabric.ts";
import { piecesDuring, timedStream } from "./harness/timed-stream.ts";

/** rung-agent as its owner runs it: several models, a memory budget, a drained shutdown. */
let fabric: LocalFabric;
let tiny: string;
let small: string;

beforeAll(async () => {
  [tiny, small] = await Promise.all([testModel("tiny"), testModel("small")]);
  fabric = await startFabric();
});

afterAll(() => fabric?.stop());

const hello = [{ role: "user" as const, content: "Hello" }];

describe("rung-agent as a daemon", () => {
  it("refuses a model too large for its memory limit, saying what it needs and what to try", async () => {
    const cramped = fabric.start({ name: "cramped", models: [small], extraArgs: ["--memory-limit", "1M"] });
    expect(await cramped.exited).toBe(1);
    const output = cramped.output.join("");
    expect(output).toMatch(/cannot serve rung-small/);
    expect(output).toMatch(/1(\.0)? MB memory limit/);
    expect(output).toMatch(/smaller quantization|fewer slots|--context-size/);
  });

  it("serves two models from one agent at once", async () => {
    await fabric.join({ name: "both", models: [tiny, small] });
    // 300 tokens take a second or more on either model here, while both start within ms of each other.
    const request = (model: string) => ({ model, messages: hello, max_tokens: 300, temperature: 0 });
    const [a, b] = await Promise.all([timedStream(fabric.client, request("rung-tiny")), timedStream(fabric.client, request("rung-small"))]);
    expect([a.model, b.model]).toEqual(["rung-tiny", "rung-small"]);
    expect([a.node, b.node]).toEqual(["both", "both"]);
    // At once, not one after the other: each kept producing text while the other did.
    expect(piecesDuring(a, b)).toBeGreaterThan(10);
    expect(piecesDuring(b, a)).toBeGreaterThan(10);
  });

  it("on SIGTERM finishes its stream while the edge sends the next requests elsewhere", async () => {
    await fabric.join({ name: "other", models: [small] });
    const drained = fabric.agent("both");
    // rung-tiny is served by `both` alone, so this long stream runs there when the signal lands.
    const { data: stream, response } = await fabric.client.chat.completions
      .create({ model: "rung-tiny", messages: hello, max_tokens: 480, temperature: 0, stream: true })
      .withResponse();
    expect(response.headers.get("x-rung-node")).toBe("both");
    let text = "";
    let finish: string | null | undefined;
    let next: Promise<{ data: OpenAI.ChatCompletion; response: Response }[]> | undefined;
    for await (const chunk of stream) {
      if (!next) {
        drained.signal("SIGTERM");
        // Once the edge knows `both` is draining, ask rung-small, which both agents serve, for
        // more answers at once than `other` has slots (2): with draining ignored, one would go to `both`.
        await expect.poll(async () => nodeOf(await fabric.status(), "rung-small", "both")?.draining, { timeout: 10_000 }).toBe(true);
        next = Promise.all(
          Array.from({ length: 3 }, () =>
            fabric.client.chat.completions.create({ model: "rung-small", messages: hello, max_tokens: 8 }).withResponse(),
          ),
        );
        // Awaited after the stream ends; until then a rejection must not count as unhandled.
        next.catch(() => {});
      }
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toMatch(/^(stop|length)$/);
    for (const answered of await next!) {
      expect(answered.response.headers.get("x-rung-node")).toBe("other");
      // Never dispatched to the draining node: its refusal would show as an attempt before this one.
      expect(attemptsOf(rungOf(answered.data))).toEqual(["rung-small:other:answered"]);
    }
    expect(await drained.exited).toBe(0);
  });
});
