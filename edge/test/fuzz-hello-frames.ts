/**
 * Hellos for fuzz-node-frames.ts, as values: absurd ones the edge accepts and ones with one thing wrong.
 * NodeFrames labels them and makes frames of them; they draw from its generator, so the seed decides them too.
 */
import { MAX_TOKENS_PER_SECOND } from "@rung/shared/protocol";
import type { FuzzRandom } from "./fuzz-random.ts";

type Json = Record<string, unknown>;

export class HelloFrames {
  constructor(
    private readonly rng: FuzzRandom,
    /** Model ids no hello may announce. */
    private readonly reservedModels: readonly string[],
  ) {}

  /** A hello the edge accepts, however absurd: bounds at their limits, duplicate models, ids like `auto`. */
  value(): Json {
    const rng = this.rng;
    const count = rng.weighted([
      [6, 1],
      [2, rng.int(2, 5)],
      [1, 32],
    ] as const);
    const models = Array.from({ length: count }, (_, i) => this.#model(i));
    // The same model twice in one hello.
    if (count > 1 && rng.chance(0.2)) models[1] = { ...models[0]! };
    const hello: Json = {
      type: "hello",
      protocol: rng.pick(["1.5", "1.0", "1.4", "1.999999"]),
      node: {
        name: rng.printable(1, 64),
        kind: rng.pick(["native", "browser"]),
        engine: rng.pick(["llama-cpp", "wllama", "webllm", "echo"]),
        slots: rng.pick([1, 2, 256]),
        ...(rng.chance(0.3) && { trust: rng.pick(["private", "public"]) }),
      },
      models,
    };
    if (rng.chance(0.2)) {
      hello.hardware = {
        backend: rng.pick(["cuda", "vulkan", "metal", "cpu"]),
        devices: Array.from({ length: rng.pick([0, 64]) }, () => "d".repeat(256)),
        vramTotalBytes: Number.MAX_SAFE_INTEGER,
        vramFreeBytes: 0,
        ramTotalBytes: rng.pick([0, Number.MAX_SAFE_INTEGER]),
        cpuCores: rng.pick([1, 2 ** 16]),
      };
    }
    return hello;
  }

  #model(index: number): Json {
    const rng = this.rng;
    let id: string = rng.pick(["auto", "auto:speed", `hostile-${index}-${rng.printable(1, 40)}`, `h${"x".repeat(127)}`]);
    if (this.reservedModels.includes(id)) id = `hostile-${index}`;
    return {
      id,
      parameters: rng.pick([1, 7, 1e13]),
      quantization: rng.pick(["", "Q4_K_M", "q".repeat(32)]),
      contextLength: rng.pick([1, 2048, 2 ** 24]),
      tokensPerSecond: rng.pick([0, 0.0001, MAX_TOKENS_PER_SECOND]),
      slots: rng.pick([1, 256]),
      ...(rng.chance(0.3) && { capabilities: { jsonSchema: rng.chance(0.5), tools: rng.chance(0.5), logprobs: rng.chance(0.5) } }),
    };
  }

  /** A hello with one thing wrong, and which. */
  broken(): { hello: Json; name: string } {
    const hello = this.value();
    const node = hello.node as Json;
    const first = (hello.models as Json[])[0]!;
    const breakers: [string, () => void][] = [
      ["no models", () => (hello.models = [])],
      ["33 models", () => (hello.models = Array.from({ length: 33 }, (_, i) => this.#model(i)))],
      ["models not a list", () => (hello.models = this.rng.json(1))],
      ["parameters", () => (first.parameters = this.rng.pick([0, -5, 1e13 + 1, 1.5, "1000", null, 1e308]))],
      ["contextLength", () => (first.contextLength = this.rng.pick([0, 2 ** 24 + 1, -1, 0.5]))],
      ["model slots", () => (first.slots = this.rng.pick([0, 257, -1, 1.5]))],
      ["tokensPerSecond", () => (first.tokensPerSecond = this.rng.pick([-1, MAX_TOKENS_PER_SECOND + 1, "fast"]))],
      ["model id", () => (first.id = this.rng.pick(["", "bad id", "x".repeat(129), "é", "a\nb", 42]))],
      ["quantization", () => (first.quantization = this.rng.pick(["q".repeat(33), 4, null]))],
      ["capabilities", () => (first.capabilities = { jsonSchema: "yes", tools: true, logprobs: true })],
      ["node name", () => (node.name = this.rng.pick(["", "a b", "n".repeat(65), "x".repeat(1_000_000)]))],
      ["node kind", () => (node.kind = this.rng.pick(["quantum", "", null]))],
      ["engine", () => (node.engine = this.rng.pick(["gpt", "LLAMA-CPP", 1]))],
      ["node slots", () => (node.slots = this.rng.pick([0, 257, -3, 2.5, "2"]))],
      ["trust", () => (node.trust = this.rng.pick(["root", "admin", true]))],
      ["protocol", () => (hello.protocol = this.rng.pick(["1", "v1.5", "1.5.0", 15, "", "1.x"]))],
      [
        "hardware",
        () => (hello.hardware = this.rng.pick([{ backend: "tpu" }, { backend: "cpu", devices: [], ramTotalBytes: -1, cpuCores: 1 }])),
      ],
      ["no node", () => delete hello.node],
      ["node not an object", () => (hello.node = this.rng.wrongValue())],
    ];
    const [name, breakIt] = this.rng.pick(breakers);
    breakIt();
    return { hello, name };
  }
}
