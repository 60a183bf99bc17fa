import type { PreRoutingSettings } from "./policy.ts";

/*
 * Cheap markers of prompts that small models tend to fail: the ladder starts such
 * requests a rung higher instead of paying for a weak first attempt. Each marker
 * needs syntax, not just a word, so plain chat ("I have 2 cats") is left alone.
 */

const CODE_MARKERS: readonly RegExp[] = [
  /```/,
  /\bdef\s+\w+\s*\(/,
  /\bfunction\s*\w*\s*\([^)]*\)\s*\{/,
  /\b(?:const|let|var)\s+\w+\s*=[^=]/,
  /\bclass\s+\w+\s*(?:\(|:|\{|extends\b)/,
  /\bimport\s+[\w{}*,\s]+\s+from\s+['"]/,
  /^\s*(?:import\s+[\w.]+(?:\s+as\s+\w+)?|from\s+[\w.]+\s+import\s+[\w*, ]+)\s*$/m,
  /#include\s*[<"]/,
  /\b(?:public|private|static)\s+(?:static\s+)?(?:void|int|string|class)\b/i,
  /\bfn\s+\w+\s*\(/,
  /\bSELECT\s+[\w*,\s]+\s+FROM\s+\w+/,
  /\w+\([^()]*\)\s*;\s*$/m,
  /=>\s*[{(\w]/,
  /\b(?:write|fix|debug|refactor|implement)\b[^.?!\n]{0,40}\b(?:code|function|script|program|regex|query|method)\b/i,
];

const MATH_MARKERS: readonly RegExp[] = [
  /\b(?:solve|equations?|integrals?|integrate|derivatives?|differentiate|theorem|prove that|factori[sz]e|simplify)\b/i,
  /\d\s*[+*×÷^]\s*\(?\d/,
  /\d\s*=\s*\d/,
  /\d\s+[-/]\s+\d/,
  /\b\d*[a-z]\s*(?:\^\s*\d+\s*)?[-+*/]\s*\d+\s*=/,
  /\\(?:frac|int|sum|sqrt)\b/,
];

const MULTI_STEP_MARKERS: readonly RegExp[] = [
  /\bstep[- ]by[- ]step\b/i,
  // At least two numbered items, each at the start of a line.
  /^\s*1[.)]\s+\S[^\n]*\n(?:[^\n]*\n)*?\s*2[.)]\s+\S/m,
  /\bfirst\b[^.?!]{0,200}?\bthen\b/i,
];

/** Why a request deserves a higher start rung, in words for the trace; empty when nothing matched or pre-routing is off. */
export function preRoute(texts: readonly string[], promptTokens: number, settings: PreRoutingSettings): string[] {
  if (!settings.enabled) return [];
  const text = texts.join("\n");
  const reasons: string[] = [];
  if (promptTokens >= settings.longPromptTokens) reasons.push(`long prompt (${promptTokens} tokens)`);
  if (settings.code && matches(text, CODE_MARKERS)) reasons.push("code");
  if (settings.math && matches(text, MATH_MARKERS)) reasons.push("math");
  if (settings.multiStep && matches(text, MULTI_STEP_MARKERS)) reasons.push("multi-step");
  return reasons;
}

function matches(text: string, markers: readonly RegExp[]): boolean {
  return markers.some((marker) => marker.test(text));
}
