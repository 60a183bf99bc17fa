/** The ladder benchmark's prompts: a seeded mix of chat, longer questions, code and math over everyday topics. */

export type Kind = "chat" | "question" | "code" | "math";
export interface Prompt {
  kind: Kind;
  text: string;
  stream: boolean;
}

export const workloadTopics = [
  "volcanoes",
  "the Roman empire",
  "sourdough bread",
  "black holes",
  "jazz",
  "honey bees",
  "the stock market",
  "glaciers",
  "chess openings",
  "electric cars",
  "coral reefs",
  "the printing press",
  "marathon training",
  "origami",
  "tea ceremonies",
  "solar panels",
  "penguins",
  "the Silk Road",
  "vaccines",
  "lighthouses",
  "board games",
  "the immune system",
  "rainforests",
  "airline pricing",
  "medieval castles",
  "coffee roasting",
  "tides",
  "the Renaissance",
  "houseplants",
  "submarines",
  "wind turbines",
  "dinosaurs",
  "recycling",
  "photography",
  "the Great Wall",
  "sleep cycles",
  "earthquakes",
  "violins",
  "cryptography",
  "beekeeping",
];
/** Calibration never sees a workload topic, so the threshold is not tuned on the workload. */
export const calibrationTopics = [
  "deserts",
  "the Moon landing",
  "cheese making",
  "hurricanes",
  "origins of writing",
  "bicycles",
  "octopuses",
  "opera",
  "satellites",
  "pottery",
  "the Olympic games",
  "mushrooms",
  "canals",
  "eclipses",
  "knitting",
  "wolves",
  "the telegraph",
  "skyscrapers",
  "pyramids",
  "owls",
  "chocolate",
  "typewriters",
  "comets",
  "bridges",
];
const identifiers = ["total", "items", "scores", "rows", "names", "prices", "events", "users", "files", "orders"];

/** The workload mix: 40% short chat, 30% longer questions, 15% code-looking, 15% math-looking. */
const kindCycle: readonly Kind[] = [
  "chat",
  "question",
  "chat",
  "code",
  "question",
  "chat",
  "math",
  "chat",
  "question",
  "chat",
  "code",
  "question",
  "chat",
  "math",
  "question",
  "chat",
  "code",
  "chat",
  "question",
  "math",
];

function promptText(kind: Kind, topic: string, i: number): string {
  const id = identifiers[i % identifiers.length]!;
  const [a, b, c] = [(i % 7) + 2, ((i * 5) % 17) + 3, ((i * 11) % 40) + 20];
  switch (kind) {
    case "chat":
      return [`Tell me something fun about ${topic}.`, `What do you think of ${topic}?`, `Any quick facts on ${topic}?`][i % 3]!;
    case "question":
      return (
        `I am preparing a short talk for a general audience about ${topic}. Could you explain how it came to be, ` +
        `what most people misunderstand about it, and one surprising detail I could open with?`
      );
    case "code":
      return [
        `Why does this return undefined?\nfunction sum${id}(xs) { xs.reduce((a, b) => a + b, 0); }`,
        `Refactor this:\nconst ${id} = data.filter(x => x.ok).map(x => x.value);`,
        `def count_${id}(rows):\n    return len([r for r in rows if r])\nCan you add type hints?`,
      ][i % 3]!;
    case "math":
      return [`Solve ${a}x + ${b} = ${c} for x.`, `What is ${a} * (${b} + ${c})?`, `Simplify (${a}x + ${b}) - (${c} - x).`][i % 3]!;
  }
}

/** Deterministic and seeded, so every run replays the same workload. */
export function makePrompts(topics: readonly string[], count: number, seed: number): Prompt[] {
  let state = seed;
  const coin = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 16) % 2 === 0;
  };
  return Array.from({ length: count }, (_, i) => {
    const kind = kindCycle[i % kindCycle.length]!;
    return { kind, text: promptText(kind, topics[i % topics.length]!, i), stream: coin() };
  });
}
