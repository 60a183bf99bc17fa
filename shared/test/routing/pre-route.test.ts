import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../routing/policy.ts";
import { preRoute } from "../../routing/pre-route.ts";

const settings = DEFAULT_POLICY.preRouting;
const route = (text: string, promptTokens = 20) => preRoute([text], promptTokens, settings);

describe("preRoute", () => {
  it.each([
    "What's up?",
    "I have 2 cats",
    "Tell me a joke about penguins.",
    "My flight is on 2024-05-01 at 10:30.",
    "Can you import the spreadsheet into my calendar?",
    "Thanks! Call me at +1 555 0100.",
  ])("leaves plain chat alone: %s", (text) => {
    expect(route(text)).toEqual([]);
  });

  it("flags a long prompt with its size, from the threshold on", () => {
    expect(route("hi", 2400)).toEqual(["long prompt (2400 tokens)"]);
    expect(route("hi", 2000)).toEqual(["long prompt (2000 tokens)"]);
    expect(route("hi", 1999)).toEqual([]);
  });

  it.each([
    "Why does this fail?\n```js\nfoo()\n```",
    "def add(a, b):\n    return a + b",
    "const total = items.length;",
    "function sum(xs) { return 0 }",
    "import numpy as np",
    "#include <stdio.h>",
    "SELECT name FROM users WHERE id = 3",
    "Write a Python function that reverses a list",
    "items.map(x => x * 2)",
  ])("flags code: %s", (text) => {
    expect(route(text)).toContain("code");
  });

  it.each([
    "Solve for x: 2x + 3 = 11",
    "What is 17 * 23?",
    "Compute the integral of x^2",
    "12 / 4 + 7",
    "\\frac{1}{2}",
    "What is the derivative of sin x?",
  ])("flags math: %s", (text) => {
    expect(route(text)).toContain("math");
  });

  it.each([
    "Explain step by step how TLS works",
    "Do this:\n1. read the file\n2. count the words",
    "First summarize the article, then translate it to French.",
  ])("flags multi-step work: %s", (text) => {
    expect(route(text)).toContain("multi-step");
  });

  it("reads every text it is given and lists each reason once", () => {
    expect(preRoute(["You are helpful.", "Solve 3 + 4 step by step"], 10, settings)).toEqual(["math", "multi-step"]);
  });

  it("returns nothing when disabled, and skips each marker the operator turned off", () => {
    const text = "```py\nprint(1 + 2)\n```\nexplain step by step";
    expect(route(text, 5000)).toEqual(["long prompt (5000 tokens)", "code", "math", "multi-step"]);
    expect(preRoute([text], 5000, { ...settings, enabled: false })).toEqual([]);
    expect(preRoute([text], 10, { ...settings, code: false, math: false })).toEqual(["multi-step"]);
    expect(preRoute([text], 10, { ...settings, multiStep: false })).toEqual(["code", "math"]);
  });
});
