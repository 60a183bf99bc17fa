import { type ChunkToken, chunkFrame, type Job, PROTOCOL_VERSION } from "@rung/shared/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type Body, closeNodesAndResetPolicy, outcomes, small, twoRungs } from "./ladder-fixtures.ts";
import { chat, putPolicy, sseData, TestNode } from "./test-node.ts";

// Protocol 1.4: a node may put several tokens in one chunk frame, each with its confidence. The client gets the
// same text, and the commit window counts and judges the tokens as if they had come one a frame.

afterEach(closeNodesAndResetPolicy);

const tokens = (texts: string[], confidences: number[]): [ChunkToken, ...ChunkToken[]] =>
  texts.map((text, i) => ({ text, confidence: confidences[i]! })) as [ChunkToken, ...ChunkToken[]];

/** Answer a job in frames of several tokens each, then `done` counting the frames. */
function answerInBatches(node: TestNode, job: Job, batches: [ChunkToken, ...ChunkToken[]][]): void {
  for (const [seq, batch] of batches.entries()) node.send(chunkFrame(job.jobId, seq, batch));
  const completionTokens = batches.reduce((sum, b) => sum + b.length, 0);
  node.send({ type: "done", jobId: job.jobId, chunks: batches.length, finishReason: "stop", usage: { promptTokens: 3, completionTokens } });
}

const streamedText = (data: string[]) =>
  data
    .slice(0, -1)
    .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
    .join("");

describe("batched chunk frames (1.4)", () => {
  it("welcomes nodes as the edge's version, and gives the client every token of batched frames, whole and streamed", async () => {
    const node = await TestNode.connect();
    node.send({ type: "hello", protocol: "1.4", node: { name: "batcher", kind: "native", engine: "echo", slots: 2 }, models: [small] });
    expect((await node.next("welcome")).protocol).toBe(PROTOCOL_VERSION);
    const batches = [tokens(["One ", "two ", "three "], [0.9, 0.8, 0.9]), tokens(["four"], [0.9])];

    const whole = chat({ model: "rung-small" });
    answerInBatches(node, await node.next("job"), batches);
    expect(((await (await whole).json()) as Body).choices[0]?.message.content).toBe("One two three four");

    const streamed = chat({ model: "rung-small", stream: true });
    answerInBatches(node, await node.next("job"), batches);
    const data = await sseData(await streamed);
    expect(data.at(-1)).toBe("[DONE]");
    expect(streamedText(data)).toBe("One two three four");
  });

  it("climbs at once when one batched frame fills a weak window, judging only the window's tokens", async () => {
    await putPolicy({ escalation: { windowTokens: 4 } });
    const { little, big } = await twoRungs();
    const pending = chat({ model: "auto", stream: true });
    const weak = await little.next("job");
    // Six tokens in one frame: the window (4) is full, so it is judged now, on the first four only.
    little.send(chunkFrame(weak.jobId, 0, tokens(["um", " er", " well", " so", " yes", "!"], [0.1, 0.2, 0.1, 0.2, 0.99, 0.99])));
    expect((await little.next("cancel")).jobId).toBe(weak.jobId);
    answerInBatches(big, await big.next("job"), [tokens(["clear ", "answer"], [0.99, 0.99])]);
    const response = await pending;
    expect(response.headers.get("x-rung-model")).toBe("rung-large");
    const data = await sseData(response);
    expect(streamedText(data)).toBe("clear answer");
    const closing = JSON.parse(data.at(-2)!) as Body;
    expect(outcomes(closing)).toEqual(["little:escalated", "big:answered"]);
    expect(closing.rung.attempts[0]).toMatchObject({ reason: "logistic score 0.00 < 0.92", confidence: { mean: 0.15, min: 0.1 } });
  });

  it("commits a sure window whose batched frame has a weak tail past it", async () => {
    await putPolicy({ escalation: { windowTokens: 4 } });
    const { little } = await twoRungs();
    const pending = chat({ model: "auto", stream: true });
    const job = await little.next("job");
    answerInBatches(little, job, [tokens(["a ", "b ", "c ", "d ", "e ", "f"], [0.99, 0.99, 0.99, 0.99, 0.1, 0.1])]);
    const response = await pending;
    expect(response.headers.get("x-rung-escalations")).toBe("0");
    const data = await sseData(response);
    expect(streamedText(data)).toBe("a b c d e f");
    expect((JSON.parse(data.at(-2)!) as Body).rung.attempts[0]).toMatchObject({
      outcome: "answered",
      confidence: { mean: 0.99, min: 0.99 },
    });
  });
});
