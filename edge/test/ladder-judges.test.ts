import { afterEach, describe, expect, it } from "vitest";
import { type Body, closeNodesAndResetPolicy, outcomes, twoRungs } from "./ladder-fixtures.ts";
import { chat, putPolicy, type TestNode } from "./test-node.ts";

// The policy's judge: which signals of an answer's tokens decide a climb, what the node is asked to send for
// it, and the tokens' signals a client may ask to see in the trace (to calibrate a judge of its own).

afterEach(closeNodesAndResetPolicy);

/** Two tokens in one frame, with the margins and entropies a 1.7 node sends when asked. */
function answerWithSignals(node: TestNode, jobId: string, confidences: number[], margins: number[], entropies: number[]): void {
  node.send({ type: "chunk", jobId, seq: 0, text: "a b", confidence: Math.min(...confidences), confidences, margins, entropies });
  node.send({
    type: "done",
    jobId,
    chunks: 1,
    finishReason: "stop",
    usage: { promptTokens: 3, completionTokens: confidences.length },
  });
}

describe("the judge", () => {
  it("climbs on its own score: the lowest confidence catches one weak token a mean forgives", async () => {
    const { little, big } = await twoRungs();
    await putPolicy({ escalation: { judge: { feature: "min" }, minMeanConfidence: 0.5 } });
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    expect(job.tokenSignals).toBeUndefined();
    little.send({ type: "chunk", jobId: job.jobId, seq: 0, text: "x y z", confidence: 0.2, confidences: [0.99, 0.99, 0.2] });
    little.send({ type: "done", jobId: job.jobId, chunks: 1, finishReason: "stop", usage: { promptTokens: 3, completionTokens: 3 } });
    big.answer(await big.next("job"), ["sure"], 0.99);
    const body = (await (await pending).json()) as Body;
    expect(outcomes(body)).toEqual(["little:escalated", "big:answered"]);
    expect(body.rung.attempts[0]).toMatchObject({
      reason: "lowest confidence 0.20 < 0.5",
      confidence: { judge: "lowest confidence", score: 0.2, bar: 0.5 },
    });
  });

  it("asks nodes for margins when it reads them, and judges by them", async () => {
    const { little, big } = await twoRungs();
    await putPolicy({ escalation: { judge: { feature: "marginMin" }, minMeanConfidence: 0.3 } });
    const pending = chat({ model: "auto" });
    const job = await little.next("job");
    expect(job.tokenSignals).toBe(true);
    // Sure of each token (0.6) but the runner-up was close behind on the second one.
    answerWithSignals(little, job.jobId, [0.6, 0.6], [0.5, 0.25], [0.7, 0.9]);
    big.answer(await big.next("job"), ["sure"], 0.99);
    const body = (await (await pending).json()) as Body;
    expect(body.rung.attempts[0]).toMatchObject({ outcome: "escalated", reason: "lowest margin 0.25 < 0.3" });
  });

  it("judges a node that sends no margins by its mean confidence against the same bar", async () => {
    const { little } = await twoRungs();
    await putPolicy({ escalation: { judge: { feature: "marginMin" }, minMeanConfidence: 0.3 } });
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["fine"], 0.6);
    const body = (await (await pending).json()) as Body;
    expect(outcomes(body)).toEqual(["little:answered"]);
    expect(body.rung.attempts[0]?.confidence).toMatchObject({ judge: "mean confidence", score: 0.6, bar: 0.3 });
  });

  it("takes a logistic rule as numbers in the policy", async () => {
    const { little, big } = await twoRungs();
    // sigmoid(-2 + 1 × logit(q10)): a q10 of 0.8 scores sigmoid(-2 + ln 4) = 0.35, under a bar of 0.6.
    await putPolicy({ escalation: { judge: { logistic: { bias: -2, weights: { q10: 1 } } }, minMeanConfidence: 0.6 } });
    const pending = chat({ model: "auto" });
    little.answer(await little.next("job"), ["so so"], 0.8);
    big.answer(await big.next("job"), ["sure"], 0.99);
    const body = (await (await pending).json()) as Body;
    const judged = body.rung.attempts[0]?.confidence;
    expect(judged?.judge).toBe("logistic score");
    expect(judged?.score).toBeCloseTo(1 / (1 + Math.exp(2 - Math.log(0.8 / 0.2))), 3);
    expect(outcomes(body)).toEqual(["little:escalated", "big:answered"]);
  });
});

describe("a bar per model", () => {
  it("holds each model's answers to its own bar, and the request's own bar to every model", async () => {
    const { little, big } = await twoRungs();
    // The small model is calibrated to be trusted from 0.6; other models keep the policy's 0.95.
    await putPolicy({ escalation: { judge: { feature: "mean" }, minMeanConfidence: 0.95, bars: { "rung-small": 0.6 } } });
    const kept = chat({ model: "auto" });
    little.answer(await little.next("job"), ["fine"], 0.7);
    const body = (await (await kept).json()) as Body;
    expect(outcomes(body)).toEqual(["little:answered"]);
    expect(body.rung.attempts[0]?.confidence).toMatchObject({ score: 0.7, bar: 0.6 });

    const strict = chat({ model: "auto", rung: { min_confidence: 0.9 } });
    little.answer(await little.next("job"), ["fine"], 0.7);
    big.answer(await big.next("job"), ["sure"], 0.99);
    const climbed = (await (await strict).json()) as Body;
    expect(outcomes(climbed)).toEqual(["little:escalated", "big:answered"]);
    expect(climbed.rung.attempts[0]).toMatchObject({ reason: "mean confidence 0.70 < 0.9" });
  });
});

describe("the tokens' signals in the trace", () => {
  it("are there only when the request asks, and the node is asked to send margins and entropies", async () => {
    const { little } = await twoRungs();
    const plain = chat({ model: "auto" });
    little.answer(await little.next("job"), ["sure"], 0.99);
    expect(((await (await plain).json()) as Body).rung.attempts[0]?.tokens).toBeUndefined();

    const traced = chat({ model: "auto", rung: { trace_tokens: true } });
    const job = await little.next("job");
    expect(job.tokenSignals).toBe(true);
    answerWithSignals(little, job.jobId, [0.99, 0.98765], [0.98, 0.97], [0.05, 0.1]);
    const body = (await (await traced).json()) as Body;
    expect(body.rung.attempts[0]?.tokens).toEqual({ confidences: [0.99, 0.9877], margins: [0.98, 0.97], entropies: [0.05, 0.1] });
  });

  it("refuses a trace_tokens that is not a boolean, naming it", async () => {
    await twoRungs();
    const response = await chat({ model: "auto", rung: { trace_tokens: "yes" } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: "rung.trace_tokens" } });
  });
});
