import { z } from "zod";
import { idSchema, type Sampling, type ToolCall } from "../protocol/messages.ts";

/**
 * Checking donated (public) nodes' answers. Greedy decoding of the same GGUF
 * gives the same tokens in wllama and llama.cpp, so a public node's greedy
 * answer can be run again on a trusted node and compared; a node whose answer
 * differs is quarantined. Where no trusted node serves the model, a canary (a
 * prompt whose greedy answer the operator recorded from a trusted run) does the
 * same job. These are the decisions; the edge carries them out.
 */

const canarySchema = z
  .object({
    model: idSchema,
    /** Sent as one user message, greedy, with `maxTokens`. */
    prompt: z.string().min(1).max(8_000),
    /** The answer a trusted node gave that exact job, recorded by the operator. */
    answer: z.string().max(32_000),
    maxTokens: z.number().int().min(1).max(1_024).default(32),
  })
  .strict();
export type Canary = z.infer<typeof canarySchema>;

export const verificationSchema = z
  .object({
    /** Each public node's first greedy answers that are all checked. */
    firstJobs: z.number().int().min(0).max(1_000).default(3),
    /** The share of its later greedy answers that are checked. */
    sampleRate: z.number().min(0).max(1).default(0.05),
    /**
     * Differing answers a node is forgiven before it is quarantined (0: the first).
     * Greedy tokens matched exactly across engines wherever measured; raise it only
     * for a model and engine measured to diverge.
     */
    forgive: z.number().int().min(0).max(100).default(0),
    /**
     * Jobs a public node runs at once, checks of its answers under way included,
     * until a check agrees: a liar's lies stop at this many before the first check ends.
     */
    probationSlots: z.number().int().min(1).max(256).default(1),
    canaries: z.array(canarySchema).max(64).default([]),
  })
  .strict()
  .prefault({});
export type VerificationSettings = z.infer<typeof verificationSchema>;

/** Only greedy answers can be compared: sampled ones differ on honest nodes too. */
export function isGreedy(sampling: Pick<Sampling, "temperature">): boolean {
  return sampling.temperature === 0;
}

/** What an answer is, for comparing: its text and its function calls (ids differ between nodes and are left out). */
export interface ComparedAnswer {
  text: string;
  toolCalls?: readonly Pick<ToolCall, "name" | "arguments">[] | undefined;
}

export function answersAgree(a: ComparedAnswer, b: ComparedAnswer): boolean {
  if (a.text !== b.text) return false;
  const callsA = a.toolCalls ?? [];
  const callsB = b.toolCalls ?? [];
  return (
    callsA.length === callsB.length && callsA.every((call, i) => call.name === callsB[i]!.name && call.arguments === callsB[i]!.arguments)
  );
}

/** Where a public node stands: the checks of its answers so far. */
export interface Standing {
  /** Checks under way now. */
  pending: number;
  agreed: number;
  differed: number;
  quarantined: boolean;
}

export const NEW_STANDING: Standing = { pending: 0, agreed: 0, differed: 0, quarantined: false };

/** Whether to check this greedy answer of a public node: all of its first `firstJobs`, then `sampleRate` of them. */
export function shouldCheck(standing: Standing, settings: VerificationSettings, random: () => number): boolean {
  if (standing.quarantined) return false;
  if (standing.agreed + standing.differed + standing.pending < settings.firstJobs) return true;
  return random() < settings.sampleRate;
}

/** A check ended; the node is quarantined once its differing answers pass what the policy forgives. */
export function afterCheck(standing: Standing, agreed: boolean, settings: Pick<VerificationSettings, "forgive">): Standing {
  const next = { ...standing, pending: Math.max(0, standing.pending - 1) };
  if (agreed) return { ...next, agreed: next.agreed + 1 };
  const differed = next.differed + 1;
  return { ...next, differed, quarantined: next.quarantined || differed > settings.forgive };
}

/** A public node on probation (no check of it agreed yet) takes at most `probationSlots` jobs at once, its checks under way counted. */
export function probationAllows(standing: Standing | undefined, active: number, settings: VerificationSettings): boolean {
  if (!standing) return active < settings.probationSlots;
  if (standing.quarantined) return false;
  return standing.agreed > 0 || active + standing.pending < settings.probationSlots;
}

/** The canary for a model, if the operator recorded one; several: the random pick keeps a liar from learning one prompt. */
export function canaryFor(modelId: string, settings: VerificationSettings, random: () => number): Canary | undefined {
  const canaries = settings.canaries.filter((c) => c.model === modelId);
  return canaries[Math.floor(random() * canaries.length)];
}
