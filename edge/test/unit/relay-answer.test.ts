import { describe, expect, it } from "vitest";
import { relayAnswer } from "../../src/openai/relay-answer.ts";

const encoder = new TextEncoder();
const sse = { "content-type": "text/event-stream; charset=utf-8" };

/** A body that sends these pieces, then ends, or breaks off as an object that restarted would. */
function body(pieces: string[], breakOff: boolean): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next < pieces.length) return controller.enqueue(encoder.encode(pieces[next++]!));
      if (breakOff) controller.error(new Error("the object restarted"));
      else controller.close();
    },
  });
}

describe("relayAnswer", () => {
  it("passes a complete stream on byte for byte, even when [DONE] arrives split across reads", async () => {
    const pieces = ['data: {"a":1}\n\n', "data: [DO", "NE]\n\n"];
    const relayed = relayAnswer(new Response(body(pieces, false), { headers: { ...sse, "x-rung-model": "m" } }), "req_1");
    expect(relayed.headers.get("x-rung-model")).toBe("m");
    expect(await relayed.text()).toBe(pieces.join(""));
  });

  it("ends a stream that broke off with an error event, then [DONE]", async () => {
    const relayed = relayAnswer(new Response(body(['data: {"a":1}\n\n'], true), { headers: sse }), "req_1");
    const text = await relayed.text();
    expect(text.startsWith('data: {"a":1}\n\n')).toBe(true);
    expect(text).toMatch(
      /data: \{"error":\{"message":"The answer ended before it was complete\.".*"code":"incomplete_answer"\}\}\n\ndata: \[DONE\]\n\n$/,
    );
  });

  it("cancels the object's body when the client stops reading", async () => {
    let cancelled: unknown;
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(encoder.encode("data: {}\n\n")),
      cancel: (reason) => {
        cancelled = reason ?? "cancelled";
      },
    });
    const relayed = relayAnswer(new Response(endless, { headers: sse }), "req_1");
    const reader = relayed.body!.getReader();
    await reader.read();
    await reader.cancel("client gone");
    await expect.poll(() => cancelled).toBeDefined();
  });

  it("leaves whole answers and refusals as the object wrote them", async () => {
    const refusal = new Response('{"error":{}}', { status: 429, headers: { "content-type": "application/json" } });
    expect(relayAnswer(refusal, "req_1")).toBe(refusal);
  });
});
