import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { LlamaCppEngine } from "../../../native-node/src/engines/llama-cpp-engine.ts";
import { modelCache } from "../../../tests/e2e/harness/paths.ts";
import { ensureTestModel } from "../../gguf/make-test-model.ts";
import { benchModel } from "../bench-model.ts";
import { startJoinedAgent } from "../harness/joined-agent.ts";
import { streamedChat, tokensPerSecond } from "../harness/streamed-chat.ts";
import { markdownTable } from "./markdown-table.ts";
import { envNumber, progress, type Section } from "./section.ts";
import { ms, percentile } from "./stats.ts";

interface Sample {
  /** Request sent to complete answer, ms. */
  totalMs: number;
  /** Request sent to first text, ms. */
  firstMs: number;
  /** Completion tokens per second between the first and the last piece. */
  tokensPerSecond: number;
}

const messages = [{ role: "user" as const, content: "Write a short story about a lighthouse keeper." }];

/**
 * What the edge costs with a model behind it: the same greedy request, round after round,
 * on node-llama-cpp in this process, and through each edge to a rung-agent serving the same
 * generated model (threads 1), with the official openai client. Medians.
 */
export const modelsSection: Section = {
  name: "models",
  title: "With a model: node-llama-cpp directly and through each edge",
  async run(rig) {
    const rounds = envNumber("MODEL_ROUNDS", 20);
    const maxTokens = envNumber("MODEL_TOKENS", 64);
    const sampling = { maxTokens, temperature: 0, topP: 1, stop: [] };
    const path = await ensureTestModel(benchModel, modelCache);
    const edges = await rig.edges();
    const direct = await LlamaCppEngine.load({ models: [{ id: benchModel.name, path }], threads: 1, slots: 1 });
    const agents = await Promise.all(edges.map((edge) => startJoinedAgent(edge.url, path, benchModel.name, ["--slots", "1"])));
    try {
      const directRun = async (): Promise<Sample> => {
        const started = performance.now();
        const times: number[] = [];
        const result = await direct.generate(
          { model: benchModel.name, input: { kind: "chat", messages }, sampling },
          { signal: new AbortController().signal, onPiece: () => times.push(performance.now()) },
        );
        return sampleOf(started, times, result.usage.completionTokens);
      };
      const streamRun = async (client: OpenAI): Promise<Sample> => {
        const answer = await streamedChat(client, { model: benchModel.name, messages, maxTokens });
        return sampleOf(answer.startedAt, answer.pieceTimes, answer.completionTokens);
      };
      const clients = edges.map((edge) => new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: "local", maxRetries: 0 }));
      const runs: { name: string; run: () => Promise<Sample> }[] = [
        { name: "node-llama-cpp in process", run: directRun },
        ...edges.map((edge, i) => ({ name: `${edge.label} → agent (openai client)`, run: () => streamRun(clients[i]!) })),
      ];
      const samples = runs.map(() => [] as Sample[]);
      progress(`models: 2 warm-up and ${rounds} measured rounds, ${maxTokens} tokens`);
      // Warm every path (first-request compilation, caches) before measuring.
      for (let round = -2; round < rounds; round++) {
        for (const [i, path] of runs.entries()) {
          const sample = await path.run();
          if (round >= 0) samples[i]!.push(sample);
        }
      }
      const median = (i: number, key: keyof Sample) =>
        percentile(
          samples[i]!.map((s) => s[key]),
          50,
        );
      const figures = runs.map((path, i) => ({
        path: path.name,
        totalMs: median(i, "totalMs"),
        firstTokenMs: median(i, "firstMs"),
        tokensPerSecond: median(i, "tokensPerSecond"),
      }));
      const markdown = [
        `rung-bench (${benchModel.embeddingLength} wide, ${benchModel.layers} layers, generated), ${maxTokens} greedy tokens, threads 1, ${rounds} rounds side by side; medians.`,
        "",
        markdownTable(
          ["path", "last token (ms)", "first token (ms)", "streamed tok/s", "tok/s of direct"],
          figures.map((f) => [
            f.path,
            ms(f.totalMs),
            ms(f.firstTokenMs),
            f.tokensPerSecond.toFixed(1),
            `${((f.tokensPerSecond / figures[0]!.tokensPerSecond) * 100).toFixed(0)}%`,
          ]),
        ),
      ].join("\n");
      return { markdown, parameters: { rounds, maxTokens, model: benchModel }, figures };
    } finally {
      await Promise.all(agents.map((agent) => agent.stop()));
      await direct.dispose();
    }
  },
};

function sampleOf(started: number, times: number[], tokens: number): Sample {
  const first = times[0] ?? performance.now();
  const last = times.at(-1) ?? first;
  return { totalMs: last - started, firstMs: first - started, tokensPerSecond: tokensPerSecond(times, tokens) };
}
