/**
 * The sample `npm run calibrate` reads: JSON lines, each an answer's `rung` trace (in an OpenAI
 * body or bare) or a labelled record of every rung's answer to one prompt. Parsed with zod at the
 * file boundary; a line that is neither is reported with its place and skipped.
 */
import { z } from "zod/v4";

/** The judge an attempt's score came from when its trace does not name one (traces before judges were named). */
export const MEAN_JUDGE_LABEL = "mean confidence";

const unit = z.number().min(0).max(1);

/** The parts of an attempt (shared/openai/responses.ts `Attempt`) calibration reads; the rest passes. */
const attemptSchema = z.looseObject({
  model: z.string().min(1),
  outcome: z.string().min(1),
  confidence: z
    .looseObject({ mean: unit, min: unit, judge: z.string().min(1).optional(), score: unit.optional(), bar: unit.optional() })
    .refine((c) => c.judge === undefined || c.judge === MEAN_JUDGE_LABEL || c.score !== undefined, {
      message: "a confidence that names its judge carries that judge's score",
    })
    .optional(),
});

/** The parts of a `RungTrace` calibration reads. */
const traceSchema = z.looseObject({
  model: z.string().min(1),
  escalations: z.number().int().min(0),
  profile: z.string().optional(),
  attempts: z.array(attemptSchema).min(1),
});

const labelledRungSchema = z
  .object({
    model: z.string().min(1),
    /** This rung's answer's score under the judge. */
    score: unit,
    /** Whether this rung's answer was right. */
    correct: z.boolean(),
    /** The model's parameter count and the answer's prompt + completion tokens: compute is their product. */
    parameters: z.number().positive().optional(),
    tokens: z.number().int().min(0).optional(),
  })
  .strict();

/** Every rung's own answer to one prompt, in ladder order, as a sample sent with each rung pinned and graded gives. */
const labelledSchema = z.looseObject({
  rungs: z.array(labelledRungSchema).min(2),
  /** The judge's label (`mean confidence`, `logistic score`, ...), when the record names it. */
  judge: z.string().min(1).optional(),
});

export type TraceAttempt = z.infer<typeof attemptSchema>;
export type Trace = z.infer<typeof traceSchema>;
export type LabelledRung = z.infer<typeof labelledRungSchema>;

export type SampleRecord =
  | { kind: "trace"; where: string; trace: Trace }
  | { kind: "labelled"; where: string; rungs: LabelledRung[]; judge?: string };

export interface BadLine {
  /** `file:line`. */
  where: string;
  why: string;
}

export interface ParsedSample {
  records: SampleRecord[];
  bad: BadLine[];
}

/**
 * The records of one file's text. Blank lines and a stream's `data: [DONE]` are passed over; a
 * `data: ` prefix (a line copied from a stream) is taken off.
 */
export function parseSample(text: string, file: string): ParsedSample {
  const records: SampleRecord[] = [];
  const bad: BadLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim().replace(/^data:\s*/, "");
    if (line === "" || line === "[DONE]") continue;
    const where = `${file}:${i + 1}`;
    const parsed = parseLine(line, where);
    if ("why" in parsed) bad.push(parsed);
    else records.push(parsed);
  }
  return { records, bad };
}

function parseLine(line: string, where: string): SampleRecord | BadLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { where, why: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { where, why: "not a JSON object" };
  const object = value as Record<string, unknown>;
  if ("rungs" in object) {
    const labelled = labelledSchema.safeParse(object);
    if (!labelled.success) return { where, why: `a labelled record, but ${issues(labelled.error)}` };
    return { kind: "labelled", where, rungs: labelled.data.rungs, ...(labelled.data.judge && { judge: labelled.data.judge }) };
  }
  // An OpenAI body (a whole answer, or a stream's last chunk) carries the trace in `rung`; a bare trace is one.
  const body = "attempts" in object ? undefined : object.rung;
  if ("attempts" in object || (typeof body === "object" && body !== null)) {
    const trace = traceSchema.safeParse(body ?? object);
    if (!trace.success) return { where, why: `a rung trace, but ${issues(trace.error)}` };
    return { kind: "trace", where, trace: trace.data };
  }
  if (typeof object.object === "string")
    return { where, why: `a ${object.object} without a rung trace (a stream carries it in its last chunk only; log that one)` };
  return { where, why: "neither a response with a rung field, a rung trace, nor a labelled record ({ rungs: [...] })" };
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "the line"}: ${issue.message}`)
    .join("; ");
}

/** The judge's label an attempt was scored by, and its score, or undefined when it was not judged. */
export function judgedScore(attempt: TraceAttempt): { judge: string; score: number; bar?: number } | undefined {
  const c = attempt.confidence;
  if (!c) return undefined;
  return { judge: c.judge ?? MEAN_JUDGE_LABEL, score: c.score ?? c.mean, ...(c.bar !== undefined && { bar: c.bar }) };
}

/** Every judge label the records name (labelled records that name none add nothing). */
export function judgeLabels(records: readonly SampleRecord[]): string[] {
  const labels = new Set<string>();
  for (const record of records) {
    if (record.kind === "labelled") {
      if (record.judge) labels.add(record.judge);
      continue;
    }
    for (const attempt of record.trace.attempts) {
      const judged = judgedScore(attempt);
      if (judged) labels.add(judged.judge);
    }
  }
  return [...labels];
}
