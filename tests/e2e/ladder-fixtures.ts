/** What the ladder-*.test.ts files share: a prompt, a pool's policy as vars, and the generated test models. */
import { testModel } from "./harness/fabric.ts";

export const hello = [{ role: "user" as const, content: "Hello there" }];
export const policyOf = (policy: object) => ({ RUNG_POLICY: JSON.stringify(policy) });

/** The generated models the ladder runs on, made once and reused: their paths. Call it in each file's beforeAll. */
export async function makeLadderModels(): Promise<{ tiny: string; small: string; sure: string }> {
  const [tiny, small, sure] = await Promise.all([testModel("tiny"), testModel("small"), testModel("sure")]);
  return { tiny, small, sure };
}
