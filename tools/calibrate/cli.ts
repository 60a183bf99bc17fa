/** `npm run calibrate`: read a sample, pick the bar (or bars per model) for the operator's target, print it, and with `--edge` apply it. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { applyPolicyPatch } from "./apply-policy.ts";
import { type CalibrateOptions, calibrateSample, type Target } from "./calibrate-sample.ts";
import { CalibrationRefusal } from "./calibration-refusal.ts";
import { EdgeRefusal } from "./edge-refusal.ts";
import { type BadLine, parseSample, type SampleRecord } from "./records.ts";
import { policyPatch, reportLines } from "./report.ts";

export const USAGE = `usage: npm run calibrate -- <sample.jsonl ...|-> (--below-top SHARE | --accuracy SHARE) [options]

  sample            JSON lines: answers with their rung field (a whole answer, or a stream's last chunk),
                    bare rung traces, or labelled records {"rungs":[{"model","score","correct"},...]}; - reads stdin
  --below-top 0.8   the highest bar that still answers this share of requests below the top rung (traces or labels)
  --accuracy 0.98   the cheapest bar that keeps this share of the top rung's accuracy (labelled records only)
  --per-model       with --accuracy: a bar per rung below the top (escalation.bars), beside the shared bar's figures
  --rungs a,b,c     the ladder, smallest first (default: the order the traces tried the models, or the records' order)
  --rung-costs 1,4  labelled records without parameters and tokens: each rung's cost per try (default 1,2,3,...)
  --edge URL        apply the bar: GET /admin/policy, set escalation.minMeanConfidence (--per-model: those
                    models' escalation.bars, other models' bars kept), PUT it back
  --admin-key KEY   the edge's RUNG_ADMIN_KEY (default: the RUNG_ADMIN_KEY variable)
  --pool NAME       the pool whose policy to change (default: the edge's default pool)`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

/** Bad lines named one by one up to this many; the rest are counted. */
const NAMED_BAD_LINES = 20;

/** Runs the command; the exit status: 0 done, 1 refused (said why), 2 a usage mistake. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv, io.env);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    io.out(USAGE);
    return 0;
  }
  try {
    const { records, bad, lines } = await readSample(options.files, io);
    for (const b of bad.slice(0, NAMED_BAD_LINES)) io.err(`skipped ${b.where}: ${b.why}`);
    if (bad.length > NAMED_BAD_LINES) io.err(`... and ${bad.length - NAMED_BAD_LINES} more`);
    if (records.length === 0) {
      throw new CalibrationRefusal(
        lines === 0
          ? "the sample has no lines"
          : `none of the ${lines} line(s) is an answer with a rung trace, a trace, or a labelled record`,
      );
    }
    io.out(`sample: ${records.length} record(s) from ${options.files.join(", ")}; ${bad.length} bad line(s) skipped`);
    const result = calibrateSample(records, options.calibrate);
    for (const line of reportLines(result)) io.out(line);
    io.out("");
    io.out("policy change (PUT /admin/policy replaces the whole policy: merge it into yours, or pass --edge):");
    const patch = policyPatch(result);
    io.out(JSON.stringify(patch));
    if (options.edge) {
      const applied = await applyPolicyPatch({
        edge: options.edge,
        adminKey: options.adminKey!,
        ...(options.pool && { pool: options.pool }),
        patch,
        ...(result.judge !== undefined && { judge: result.judge }),
        ...(io.fetch && { fetch: io.fetch }),
      });
      io.out("");
      io.out(`applied to ${options.edge}${options.pool ? ` (pool ${options.pool})` : ""}; the edge answered:`);
      io.out(JSON.stringify(applied.policy, null, 2));
      for (const note of applied.notes) io.out(`note: ${note}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof CalibrationRefusal || error instanceof EdgeRefusal) {
      io.err(`calibrate: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

interface Options {
  files: string[];
  calibrate: CalibrateOptions;
  edge?: string;
  adminKey?: string;
  pool?: string;
}

function parseOptions(argv: readonly string[], env: CliIo["env"]): Options | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      "below-top": { type: "string" },
      accuracy: { type: "string" },
      rungs: { type: "string" },
      "rung-costs": { type: "string" },
      edge: { type: "string" },
      "admin-key": { type: "string" },
      pool: { type: "string" },
      "per-model": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length === 0) throw new Error("name at least one sample file (or - for stdin)");
  if ((values["below-top"] === undefined) === (values.accuracy === undefined))
    throw new Error("give exactly one target: --below-top or --accuracy");
  const target: Target =
    values.accuracy !== undefined
      ? { accuracy: share("--accuracy", values.accuracy) }
      : { belowTop: share("--below-top", values["below-top"]!) };
  if (values["per-model"] && values.accuracy === undefined)
    throw new Error("--per-model goes with --accuracy (and a labelled sample): it keeps the top rung's accuracy at the least compute");
  const rungs = values.rungs?.split(",").map((m) => m.trim());
  const rungCosts = values["rung-costs"]?.split(",").map((c) => {
    const cost = Number(c);
    if (!(cost > 0 && Number.isFinite(cost)))
      throw new Error(`--rung-costs takes positive numbers, smallest rung first: ${values["rung-costs"]}`);
    return cost;
  });
  const adminKey = values["admin-key"] ?? env.RUNG_ADMIN_KEY;
  if (values.edge !== undefined && !adminKey) throw new Error("--edge needs the admin key: --admin-key KEY or the RUNG_ADMIN_KEY variable");
  if (values.edge === undefined && (values["admin-key"] !== undefined || values.pool !== undefined))
    throw new Error("--admin-key and --pool go with --edge");
  if (values.edge !== undefined && !URL.canParse(values.edge))
    throw new Error(`--edge takes the edge's URL, e.g. https://rung.example.com: ${values.edge}`);
  return {
    files: positionals,
    calibrate: { target, ...(rungs && { rungs }), ...(rungCosts && { rungCosts }), ...(values["per-model"] && { perModel: true }) },
    ...(values.edge !== undefined && { edge: values.edge, adminKey }),
    ...(values.pool !== undefined && { pool: values.pool }),
  };
}

function share(flag: string, text: string): number {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new Error(`${flag} takes a share in (0, 1], e.g. 0.8: ${text}`);
  return value;
}

async function readSample(files: readonly string[], io: CliIo): Promise<{ records: SampleRecord[]; bad: BadLine[]; lines: number }> {
  const records: SampleRecord[] = [];
  const bad: BadLine[] = [];
  let lines = 0;
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? await io.readStdin() : await readFile(file, "utf8");
    } catch (error) {
      throw new CalibrationRefusal(`cannot read ${file}: ${(error as Error).message}`);
    }
    const parsed = parseSample(text, file === "-" ? "stdin" : file);
    records.push(...parsed.records);
    bad.push(...parsed.bad);
    lines += parsed.records.length + parsed.bad.length;
  }
  return { records, bad, lines };
}

function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    env: process.env,
  };
}
