import type { ModelInfo } from "@rung/shared/protocol";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalFabric, startFabric, testModel } from "./harness/fabric.ts";
import { ScriptedTab } from "./harness/scripted-tab.ts";

/**
 * Public nodes caught lying, with a real agent as the trusted node: a tab that
 * joins through the donate entrance, announces the agent's model and answers
 * every job at once with a wrong text. At the default policy (first 3 greedy
 * answers checked, then 5%; probation of one job at a time, checks included)
 * it is quarantined, and the lies that reached clients first are counted; a
 * key that demands verified answers gets none. An honest tab shows what the
 * checks cost.
 */
const ADMIN_KEY = "verification-admin-key";
const MODEL = "rung-tiny";
const ASK = {
  model: MODEL,
  messages: [{ role: "user" as const, content: "Count with me: one two three" }],
  max_tokens: 12,
  temperature: 0,
};
const LIE = " nothing of the kind, trust me";
/** What the scripted tabs announce: the agent's model id, a tab's single slot. */
const TAB_MODEL: ModelInfo = {
  id: MODEL,
  parameters: 1_000_000,
  quantization: "F32",
  contextLength: 2048,
  tokensPerSecond: 10_000,
  slots: 1,
};

let fabric: LocalFabric;
let everyTier: OpenAI;
let verifying: OpenAI;
/** The agent's greedy answer, recorded before any tab joined, and its length in the model's tokens. */
let truth: string;
let truthTokens: number;
const tabs: ScriptedTab[] = [];

async function admin<T>(method: string, path: string, body?: object): Promise<T> {
  const response = await fetch(`${fabric.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    ...(body && { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} /admin${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const clientOf = async (body: object) =>
  new OpenAI({ baseURL: `${fabric.url}/v1`, apiKey: (await admin<{ key: string }>("POST", "/keys", body)).key, maxRetries: 0 });

beforeAll(async () => {
  const modelPath = await testModel("tiny");
  fabric = await startFabric({ vars: { RUNG_OPEN_EDGE: "false", RUNG_ADMIN_KEY: ADMIN_KEY }, apiKey: ADMIN_KEY });
  const { token } = await admin<{ token: string }>("POST", "/join-tokens", { name: "owners" });
  await fabric.join({ name: "owned", models: [modelPath], extraArgs: ["--token", token] });
  everyTier = await clientOf({ name: "every tier", tiers: ["private", "public"] });
  verifying = await clientOf({ name: "verified answers", tiers: ["private", "public"], verify: true });
  const recorded = await everyTier.chat.completions.create(ASK);
  truth = recorded.choices[0]!.message.content ?? "";
  truthTokens = recorded.usage?.completion_tokens ?? 0;
  expect(truth.length).toBeGreaterThan(0);
}, 180_000);

afterAll(async () => {
  for (const tab of tabs) tab.close();
  await fabric?.stop();
});

async function joinTab(name: string, answer: string): Promise<ScriptedTab> {
  const tab = await ScriptedTab.join(fabric.url, name, TAB_MODEL, answer, truthTokens);
  tabs.push(tab);
  return tab;
}

/** `count` greedy requests, `inFlight` at a time, half of them streamed: the texts the clients got. */
async function ask(client: OpenAI, count: number, inFlight = 4): Promise<string[]> {
  const texts: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      if (i % 2 === 0) {
        texts.push((await client.chat.completions.create(ASK)).choices[0]!.message.content ?? "");
        continue;
      }
      let text = "";
      for await (const chunk of await client.chat.completions.create({ ...ASK, stream: true }))
        text += chunk.choices[0]?.delta.content ?? "";
      texts.push(text);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return texts;
}

interface Quarantine {
  node: string;
  kind: string;
  answer: string;
  expected: string;
  referee: string;
}

async function quarantineOf(name: string): Promise<Quarantine | undefined> {
  return (await admin<{ data: Quarantine[] }>("GET", "/quarantine")).data.find((q) => q.node === name);
}

/** A metric's samples whose lines carry every one of `labels`, summed. */
async function metric(name: string, ...labels: string[]): Promise<number> {
  const page = await (await fetch(`${fabric.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  return page
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

describe("verifying donated nodes against a real agent", () => {
  it("quarantines a lying tab after its first answer is checked, and counts the lies clients got before", async () => {
    const liar = await joinTab("liar", LIE);
    const texts = await ask(everyTier, 30);
    const lies = texts.filter((text) => text !== truth).length;
    const evidence = await quarantineOf("liar");
    console.log(`lying tab: ${liar.clientJobs.length} jobs, ${lies} of ${texts.length} answers delivered were its lies before quarantine`);

    expect(evidence).toMatchObject({ kind: "rerun", answer: LIE, expected: truth, referee: "owned" });
    // Every lie delivered is one of its jobs; probation held it to one job until its first check said it lied.
    expect(texts.every((text) => text === truth || text === LIE)).toBe(true);
    expect(lies).toBe(liar.clientJobs.length);
    expect(lies).toBeGreaterThanOrEqual(1);
    expect(lies).toBeLessThanOrEqual(1);
    // Quarantined: still connected, and no job since.
    const jobsBefore = liar.jobs.length;
    expect(await ask(everyTier, 6)).toEqual(Array(6).fill(truth));
    expect(liar.jobs.length).toBe(jobsBefore);
    expect(liar.closed).toBe(false);
  }, 120_000);

  it("delivers no lie to a key that demands verified answers: the agent's answer commits and the tab is quarantined", async () => {
    const liar = await joinTab("liar-2", LIE);
    const texts = await ask(verifying, 20);
    console.log(
      `lying tab with a verify-demanding key: ${liar.clientJobs.length} jobs, 0 lies allowed, ${texts.filter((t) => t !== truth).length} delivered`,
    );
    expect(liar.clientJobs.length).toBeGreaterThanOrEqual(1);
    expect(texts).toEqual(Array(20).fill(truth));
    expect(await quarantineOf("liar-2")).toMatchObject({ kind: "confirm", answer: LIE, expected: truth });
  }, 120_000);

  it("verifies an honest tab, and states what its checks cost", async () => {
    const honest = await joinTab("honest", truth);
    const servedBefore = await metric("rung_tokens_total", 'direction="completion"');
    const checkedBefore = await metric("rung_verification_tokens_total");
    const texts = await ask(everyTier, 60);
    expect(texts).toEqual(Array(60).fill(truth));
    expect(await quarantineOf("honest")).toBeUndefined();
    const served = (await metric("rung_tokens_total", 'direction="completion"')) - servedBefore;
    const checks = (await metric("rung_verification_tokens_total")) - checkedBefore;
    const agreed = await metric("rung_verification_checks_total", 'kind="rerun"', 'outcome="agreed"');
    // Its first 3 answers, then 5%: over a short run the first 3 weigh most; a long one tends to 5% of the tab's answers.
    console.log(
      `honest tab: ${honest.clientJobs.length} of 60 jobs, ${agreed} checked (agreed); check tokens ${checks} against ${served} served (${((100 * checks) / served).toFixed(1)}% of the pool's compute)`,
    );
    expect(honest.clientJobs.length).toBeGreaterThan(0);
    expect(agreed).toBeGreaterThanOrEqual(Math.min(3, honest.clientJobs.length));
    expect(checks).toBeGreaterThan(0);
  }, 120_000);
});
