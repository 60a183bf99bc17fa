/** One sample, one target: checks the sample is one judge's and one kind, then calibrates from traces or labels. */
import { CalibrationRefusal } from "./calibration-refusal.ts";
import { calibrateFromLabels, type LabelledCalibration } from "./from-labels.ts";
import { calibrateFromTraces, type TraceCalibration } from "./from-traces.ts";
import { judgeLabels, type SampleRecord, type Trace } from "./records.ts";

export type Target = { belowTop: number } | { accuracy: number };

export interface CalibrateOptions {
  target: Target;
  /** The ladder, smallest first; default inferred from the traces, or the labelled records' order. */
  rungs?: readonly string[];
  /** Labelled records without parameters and tokens: each rung's cost per try; default 1, 2, 3, … */
  rungCosts?: readonly number[];
  /** With an accuracy target on a labelled sample: a bar per rung below the top, beside the shared one. */
  perModel?: boolean;
}

export type SampleCalibration = { judge: string | undefined } & (
  | ({ kind: "traces" } & TraceCalibration)
  | ({ kind: "labelled" } & LabelledCalibration)
);

/** What to record for an accuracy target, for the refusal on traces. */
export const LABELLED_RECORD_HELP =
  'send a sample of prompts to each rung pinned (model: "<rung>"), grade each answer, and write one line per prompt with every rung in ladder order: {"rungs":[{"model":"small","score":0.93,"correct":true},{"model":"large","score":0.99,"correct":true}]}, where score is the judge\'s score in the answer\'s trace (rung.attempts[-1].confidence.score; the mean where there is no score)';

export function calibrateSample(records: readonly SampleRecord[], options: CalibrateOptions): SampleCalibration {
  if (records.length === 0) throw new CalibrationRefusal("the sample is empty");
  const labels = judgeLabels(records);
  if (labels.length > 1) {
    throw new CalibrationRefusal(
      `the sample mixes judges (${labels.join(", ")}): a bar means something else under each, so calibrate one judge's answers at a time (each attempt's confidence.judge names it)`,
    );
  }
  const judge = labels[0];
  const traces: Trace[] = [];
  const labelled: Extract<SampleRecord, { kind: "labelled" }>[] = [];
  for (const record of records) {
    if (record.kind === "trace") traces.push(record.trace);
    else labelled.push(record);
  }
  if (traces.length > 0 && labelled.length > 0) {
    throw new CalibrationRefusal(
      `the sample mixes ${traces.length} trace(s) and ${labelled.length} labelled record(s): calibrate on one kind (labelled records answer both targets)`,
    );
  }
  if (options.perModel && !("accuracy" in options.target))
    throw new CalibrationRefusal("--per-model goes with --accuracy: it keeps the top rung's accuracy at the least compute");
  if (options.perModel && traces.length > 0) {
    throw new CalibrationRefusal(
      `--per-model needs a labelled sample: a bar per model is found by replaying what every rung would answer, and a trace does not say what the rungs it never tried would have answered. To record one, ${LABELLED_RECORD_HELP}`,
    );
  }
  if (labelled.length > 0) return { kind: "labelled", judge, ...calibrateFromLabels(labelled, options.target, options) };
  if ("accuracy" in options.target) {
    throw new CalibrationRefusal(
      `--accuracy needs a labelled sample: a trace says how sure each rung it tried was, not whether it was right, nor what the rungs it never tried would have answered. To record one, ${LABELLED_RECORD_HELP}. From traces alone, --below-top sets the bar for a share answered below the top rung`,
    );
  }
  return { kind: "traces", judge, ...calibrateFromTraces(traces, { belowTop: options.target.belowTop, rungs: options.rungs }) };
}
