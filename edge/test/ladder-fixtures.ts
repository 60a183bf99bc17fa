/** What the ladder-*.test.ts files share: two models a rung apart, nodes serving them, the trace's shape, the cleanup after each test. */
import type { RungTrace } from "@rung/shared/openai";
import type { Job } from "@rung/shared/protocol";
import { vi } from "vitest";
import { model, resetPolicy, TestNode } from "./test-node.ts";

/** Run after each test: no node stays connected and the policy is the default again. */
export async function closeNodesAndResetPolicy(): Promise<void> {
  await TestNode.closeAll();
  await resetPolicy();
}

export const small = model("rung-small", 1_000_000);
export const large = model("rung-large", 9_000_000);

export interface Body {
  model: string;
  choices: { message: { content: string } }[];
  rung: RungTrace;
}

/** Both the small and the large rung connected, each on its own node. */
export async function twoRungs(): Promise<{ little: TestNode; big: TestNode }> {
  return { little: await TestNode.join("little", [small]), big: await TestNode.join("big", [large]) };
}

/** Whichever of these nodes gets the next job: the router picks among equals at random. */
export function firstJob(nodes: TestNode[]): Promise<{ node: TestNode; job: Job }> {
  return vi.waitFor(
    () => {
      for (const node of nodes) {
        const index = node.received.findIndex((m) => m.type === "job");
        if (index >= 0) return { node, job: node.received.splice(index, 1)[0] as Job };
      }
      throw new Error("no node got a job");
    },
    { timeout: 3_000, interval: 5 },
  );
}

export const outcomes = (body: Body) => body.rung.attempts.map((a) => `${a.node}:${a.outcome}`);
