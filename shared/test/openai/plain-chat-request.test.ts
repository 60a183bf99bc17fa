import { describe, expect, it } from "vitest";
import { plainChatRequest } from "../../openai/plain-chat-request.ts";
import { chatCompletionRequestSchema } from "../../openai/requests.ts";
import { seededRandom } from "../../routing/seeded-random.ts";

/** Each field's first value is a plain, valid one; the rest are what clients send that is not plain or not valid. */
const fields: Record<string, readonly unknown[]> = {
  model: ["auto", "", 3, null],
  stream: [true, false, null, "yes"],
  stream_options: [{ include_usage: true }, {}, null, { include_usage: null }, { include_usage: true, extra: 1 }, "x"],
  temperature: [0.7, 0, 2, null, 2.5, -1, "0.5"],
  top_p: [1, 0.5, null, 0, 1.5],
  n: [1, null, 2],
  stop: ["\n", null, "", ["a"], ["a", "b", "c", "d", "e"], [""], 5],
  seed: [42, -7, null, 1.5, 2 ** 53],
  max_tokens: [16, null, 0, -3, 2.5, "16", 2 ** 53],
  max_completion_tokens: [8, null, 0],
  user: ["u1", null, 7],
  logprobs: [false, null, true],
  top_logprobs: [0, null, 3],
  parallel_tool_calls: [true, null, "no"],
  tool_choice: ["auto", null, "none"],
  tools: [null, [{ type: "function", function: { name: "f" } }], []],
  response_format: [null, { type: "json_object" }, { type: "bogus" }],
  metadata: [{ anything: true }, "passed through"],
};

const messageFields: Record<string, readonly unknown[]> = {
  role: ["user", "system", "developer", "assistant", "tool", "robot", 1],
  content: ["hello", "", null, [{ type: "text", text: "hi" }], [{ type: "image_url" }], 5],
  name: ["ann", null, 3],
  tool_calls: [null, [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }], "x"],
  tool_call_id: [null, "c1", ""],
  extra: ["kept"],
};

/** Each field present or not, usually with its first value. */
function draw(random: () => number, choices: Record<string, readonly unknown[]>, required: readonly string[]): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [field, options] of Object.entries(choices)) {
    if (random() < (required.includes(field) ? 0.03 : 0.7)) continue;
    value[field] = random() < 0.75 ? options[0] : options[Math.floor(random() * options.length)];
  }
  return value;
}

function request(random: () => number): unknown {
  const body = draw(random, fields, ["model"]);
  const count = Math.floor(random() * 4);
  if (random() > 0.03) body.messages = Array.from({ length: count }, () => draw(random, messageFields, ["role", "content"]));
  return random() < 0.01 ? [body] : body;
}

describe("plainChatRequest", () => {
  it("accepts only requests the schema accepts, and returns what the schema returns", () => {
    const random = seededRandom(7);
    let accepted = 0;
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const body = request(random);
      const plain = plainChatRequest(body);
      const schema = chatCompletionRequestSchema.safeParse(body);
      if (schema.success) valid += 1;
      if (plain === undefined) continue;
      accepted += 1;
      expect(schema.success, JSON.stringify(body)).toBe(true);
      expect(plain).toStrictEqual(schema.data);
    }
    // The draw reaches both sides, and the quick path serves most valid requests.
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeGreaterThan(valid * 0.3);
    expect(valid - accepted).toBeGreaterThan(100);
  });

  it("takes an OpenAI SDK's usual request", () => {
    const body = {
      model: "auto",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      stream: true,
    };
    expect(plainChatRequest(body)).toBe(body);
  });
});
