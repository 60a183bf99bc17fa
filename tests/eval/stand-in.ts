// A stand-in for tests/fixtures/trained/ with the same shape, from random-weight models:
// three sizes of one "addition" task whose "answers" are whatever the largest model says.
// It exercises the evaluation's plumbing only (run it with EVAL_EXTRA_TOKENS=0, since
// random models never end an answer themselves):
//
//   EVAL_EXTRA_TOKENS=0 npx tsx tests/eval/stand-in.ts
//   EVAL_EXTRA_TOKENS=0 EVAL_FIXTURES=.cache/eval-standin npm run eval
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensureTestModel, parameterCount, type TestModelOptions } from "../fixtures/gguf/make-test-model.ts";
import { modelCache, repoRoot } from "../e2e/harness/paths.ts";
import { mulberry32 } from "../fixtures/mulberry32.ts";
import type { Manifest, Problem, Task } from "./fixtures.ts";
import { EvalSession } from "./session.ts";

const count = Number(process.env.STANDIN_PROBLEMS ?? 120);
const dir = join(repoRoot, ".cache", "eval-standin");
const specs = [
  { rung: "s", spec: { name: "standin-add-s", embeddingLength: 64, layers: 2, heads: 4, seed: 11, outputScale: 3 } },
  { rung: "m", spec: { name: "standin-add-m", embeddingLength: 128, layers: 4, heads: 4, seed: 12, outputScale: 4 } },
  { rung: "l", spec: { name: "standin-add-l", embeddingLength: 256, layers: 6, heads: 8, seed: 13, outputScale: 10 } },
] as const satisfies readonly { rung: string; spec: TestModelOptions }[];

await mkdir(dir, { recursive: true });
const manifest: Manifest = {
  tasks: [{ name: "addition", description: "stand-in: random-weight models; answers are the largest model's output", heldout: "heldout-addition.json" }],
  models: [],
};
for (const { rung, spec } of specs) {
  const path = await ensureTestModel(spec, modelCache);
  manifest.models.push({ id: spec.name, task: "addition", rung, file: path, parameters: parameterCount(spec) });
}
const next = mulberry32(5);
const prompts = [...new Set(Array.from({ length: count * 2 }, () => `${String(Math.floor(next() * 1000)).padStart(3, "0")}+${String(Math.floor(next() * 1000)).padStart(3, "0")}=`))].slice(0, count);
const session = await EvalSession.start();
try {
  const task: Task = { entry: manifest.tasks[0]!, rungs: manifest.models.map((m) => ({ ...m, path: m.file })), problems: [{ prompt: prompts[0]!, answer: "0000" }] };
  await session.serve(task);
  const problems: Problem[] = [];
  for (const prompt of prompts) problems.push({ prompt, answer: (await session.ask(specs[2].spec.name, { prompt, answer: "0000" })).text });
  await writeFile(join(dir, "heldout-addition.json"), JSON.stringify(problems, null, 1));
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
  console.log(`stand-in fixtures in ${dir}: ${problems.length} problems`);
} finally {
  await session.dispose();
}
