/**
 * Drives a real local edge (workerd) and a real rung-agent serving one task's three rungs,
 * sending each problem with the official openai client as a whole `/v1/completions` answer.
 */
import { performance } from "node:perf_hooks";
import type { RungTrace } from "@rung/shared/openai";
import { type Judge, MEAN_JUDGE } from "@rung/shared/routing";
import OpenAI from "openai";
import { AgentProcess } from "../../tests/e2e/harness/agent-process.ts";
import { putPolicy } from "../../tests/e2e/harness/edge-admin.ts";
import { type LocalEdge, startLocalEdge } from "../../tests/e2e/harness/local-edge.ts";
import type { Problem, Task } from "./fixtures.ts";
import type { Observation, Pinned } from "./pinned.ts";

const adminKey = "eval-admin";

/**
 * Every policy in the evaluation: pre-routing off (these prompts are not chat, and "123+456="
 * would read as math and start a rung up), and the balanced profile's latency weight 0, so
 * `auto` starts on the cheapest rung. Why: the agent's speed probe greedily continues "Once upon
 * a time", and a model trained to answer and stop ends that at once, which the probe reports as 0
 * ("unknown"); the balanced profile counts unknown speed as the slowest possible, so until the
 * agent's heartbeats (every 15 s) carry speeds measured on real jobs, the start rung depends on
 * which model happened to ramble (in a first run with the shipped weights, all 250 sort requests
 * started on sort-m). `shippedWeights` keeps the shipped weights (only pre-routing off); its row
 * runs last, when every model has a measured speed, so it shows the steady state.
 * The judge is named (the mean, unless another is studied), so the main grid measures the mean
 * whatever the shipped judge is; without a threshold, the judge is held to its default bar
 * (`defaultBar`). Everything else is the default.
 */
export const policyFor = (threshold?: number, shippedWeights = false, judge: Judge = MEAN_JUDGE) => ({
  preRouting: { enabled: false },
  ...(!shippedWeights && { profiles: { balanced: { latency: 0 } } }),
  escalation: { judge, ...(threshold !== undefined && { minMeanConfidence: threshold }) },
});

/** How one problem is asked: streamed or whole, and whether the trace carries each token's signals. */
export interface AskOptions {
  stream?: boolean;
  traceTokens?: boolean;
}

/** Tokens allowed beyond the answer: the end-of-answer token the trained models emit. */
export const extraTokens = 1;

export class EvalSession {
  private agent: AgentProcess | undefined;

  private constructor(
    readonly edge: LocalEdge,
    readonly client: OpenAI,
  ) {}

  static async start(): Promise<EvalSession> {
    const edge = await startLocalEdge({ RUNG_POLICY: JSON.stringify(policyFor()), RUNG_ADMIN_KEY: adminKey });
    return new EvalSession(edge, new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0, timeout: 60_000 }));
  }

  /** One agent, one thread, serving the task's three models under their manifest ids. */
  async serve(task: Task): Promise<void> {
    await this.stopAgent();
    this.agent = new AgentProcess({
      edge: this.edge.url,
      name: `eval-${task.entry.name}`.replace(/[^A-Za-z0-9._-]/g, "-"),
      models: task.rungs.map((m) => `${m.id}=${m.path}`),
    });
    await this.agent.joined(
      task.rungs.map((m) => m.id),
      120_000,
    );
    // Warm each model (first-request costs) before anything is measured.
    for (const m of task.rungs) await this.ask(m.id, task.problems[0]!);
  }

  /** Stops the agent and waits until the edge no longer offers its models, so tasks never share a ladder. */
  async stopAgent(): Promise<void> {
    if (!this.agent) return;
    const ids = this.agent.options.models.map((m) => m.slice(0, m.indexOf("=")));
    await this.agent.stop();
    this.agent = undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const health = (await (await fetch(`${this.edge.url}/health`)).json()) as { models: string[] };
      if (!ids.some((id) => health.models.includes(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the edge still offers ${ids.join(", ")} 30 s after their agent stopped`);
  }

  setThreshold(threshold?: number, shippedWeights = false, judge?: Judge): Promise<void> {
    return putPolicy(this.edge.url, adminKey, policyFor(threshold, shippedWeights, judge));
  }

  /**
   * One problem, greedy, room for the answer and its end token; scored by exact match. Whole or
   * streamed (then the time to the first text is kept too); `traceTokens` asks for each token's
   * signals in the trace (`rung.trace_tokens`), which the judges are studied on.
   */
  async ask(model: string, problem: Problem, { stream = false, traceTokens = false }: AskOptions = {}): Promise<Observation> {
    const params = {
      model,
      prompt: problem.prompt,
      temperature: 0,
      max_tokens: problem.answer.length + extraTokens,
      ...(traceTokens && { rung: { trace_tokens: true } }),
    };
    const started = performance.now();
    let text = "";
    let firstTextMs: number | undefined;
    let trace: RungTrace | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    if (stream) {
      const chunks = await this.client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of chunks) {
        const piece = chunk.choices[0]?.text ?? "";
        if (piece && firstTextMs === undefined) firstTextMs = performance.now() - started;
        text += piece;
        usage = chunk.usage ?? usage;
        trace = (chunk as unknown as { rung?: RungTrace }).rung ?? trace;
      }
    } else {
      const completion = await this.client.completions.create(params);
      text = completion.choices[0]?.text ?? "";
      usage = completion.usage;
      trace = (completion as unknown as { rung?: RungTrace }).rung;
    }
    const ms = performance.now() - started;
    if (!trace || !usage) throw new Error(`answer without rung trace or usage: ${model} ${problem.prompt}`);
    const tokens = trace.attempts.at(-1)?.tokens;
    return {
      text,
      correct: text.trim() === problem.answer.trim(),
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      ms,
      ...(firstTextMs !== undefined && { firstTextMs }),
      ...(tokens && { tokens }),
      trace,
    };
  }

  /** Each rung pinned on each problem; problem by problem, so slow drift spreads evenly over the rungs. */
  async pinned(task: Task, problems: readonly Problem[], options: AskOptions = { traceTokens: true }): Promise<Pinned> {
    const runs: Observation[][] = task.rungs.map(() => []);
    for (const problem of problems) {
      for (const [r, m] of task.rungs.entries()) runs[r]!.push(await this.ask(m.id, problem, options));
    }
    return { ids: task.rungs.map((m) => m.id), parameters: task.rungs.map((m) => m.parameters), runs };
  }

  /** `auto` on each problem under the policy with this judge (the mean by default) and threshold (undefined: the judge's default bar). */
  async auto(
    problems: readonly Problem[],
    threshold?: number,
    shippedWeights = false,
    judge?: Judge,
    stream = false,
  ): Promise<Observation[]> {
    await this.setThreshold(threshold, shippedWeights, judge);
    const out: Observation[] = [];
    for (const problem of problems) out.push(await this.ask("auto", problem, { stream }));
    return out;
  }

  async dispose(): Promise<void> {
    await this.agent?.stop();
    await this.edge.dispose();
  }
}
