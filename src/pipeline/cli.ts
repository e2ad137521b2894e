/**
 * `bun run pipeline [--data-dir data] [--out-dir reports] [--as-of YYYY-MM-DD] [--tolerance-min 10] [--workers N]`
 * Progress per stage on stderr (a live bar on a TTY, plain lines otherwise), one summary line on
 * stdout. Exit 0 on success, 2 on bad input or a bad flag, 1 on anything unexpected.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { beginCliRun } from "../modules/pipeline/cli-record.ts";
import { writeRunJson } from "../modules/pipeline/run-json.ts";
import { PipelineInputError } from "./errors.ts";
import { isWorkerCount, MAX_WORKERS } from "./pool.ts";
import { type ProgressFn, type RunResult, runPipeline } from "./run.ts";

export const USAGE =
  "usage: bun run pipeline [--data-dir data] [--out-dir reports] [--as-of YYYY-MM-DD] [--tolerance-min 10] [--workers N]";

/** Parsed command line. */
export interface CliOptions {
  dataDir: string;
  outDir: string;
  asOf?: string;
  toleranceMin: number;
  workers: number;
  help: boolean;
}

/** A bad flag: the CLI exits 2 with this message and the usage line. */
export class UsageError extends Error {}

/** Parses argv (without the runtime and script) strictly: unknown flags and bad values throw UsageError. */
export function parseCli(argv: string[]): CliOptions {
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the parseArgs call it is assigned from
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "data-dir": { type: "string" },
        "out-dir": { type: "string" },
        "as-of": { type: "string" },
        "tolerance-min": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const tolerance = values["tolerance-min"] ?? "10";
  if (!/^\d+(\.\d+)?$/.test(tolerance))
    throw new UsageError(`--tolerance-min must be a number of minutes >= 0, got "${tolerance}"`);
  const workers = values.workers ?? String(availableParallelism());
  if (!/^\d+$/.test(workers) || !isWorkerCount(Number(workers))) {
    throw new UsageError(`--workers must be an integer from 1 to ${MAX_WORKERS}, got "${workers}"`);
  }
  const asOf = values["as-of"];
  if (asOf !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(asOf))
    throw new UsageError(`--as-of must be YYYY-MM-DD, got "${asOf}"`);
  for (const flag of ["data-dir", "out-dir"] as const) {
    if (values[flag] === "") throw new UsageError(`--${flag} must not be empty`);
  }
  return {
    dataDir: values["data-dir"] ?? "data",
    outDir: values["out-dir"] ?? "reports",
    asOf,
    toleranceMin: Number(tolerance),
    workers: Number(workers),
    help: values.help ?? false,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Compact count: 1234 -> "1.2k", 5600000 -> "5.6M". */
const short = (n: number) =>
  n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e3 ? (n / 1e3).toFixed(1) + "k" : String(Math.round(n));

/** Stage progress on a stream: one line per finished stage, plus a redrawn status line on a TTY. */
export function progressPrinter(out: NodeJS.WriteStream): ProgressFn {
  const live = out.isTTY === true;
  const active = new Map<string, { rows: number; rate: number; fraction?: number }>();
  let lastDraw = 0;
  const draw = (force: boolean) => {
    if (!live) return;
    const now = Date.now();
    if (!force && now - lastDraw < 80) return;
    lastDraw = now;
    const width = out.columns || 100;
    const entries = [...active];
    const text =
      entries.length === 1
        ? entries.map(([name, s]) => {
            const bar =
              s.fraction === undefined
                ? ""
                : "[" + "#".repeat(Math.round(s.fraction * 20)).padEnd(20, ".") + `] ${Math.round(s.fraction * 100)}% `;
            return `${name} ${bar}${fmt(s.rows)} rows ${fmt(s.rate)} rows/s`;
          })[0]!
        : entries
            .map(
              ([name, s]) =>
                `${name.replace(/^load /, "")} ${s.fraction === undefined ? "" : Math.round(s.fraction * 100) + "% "}${short(s.rows)}`,
            )
            .join(" | ");
    out.write("\r\x1b[K" + text.slice(0, width - 1));
  };
  return (stage, rows, rowsPerS, info) => {
    if (info?.done) {
      active.delete(stage);
      const seconds = rowsPerS > 0 ? rows / rowsPerS : 0;
      const line = `pipeline: ${stage.padEnd(34)} ${fmt(rows).padStart(12)} rows  ${seconds.toFixed(2).padStart(7)} s  ${fmt(rowsPerS).padStart(12)} rows/s`;
      out.write(live ? "\r\x1b[K" + line + "\n" : line + "\n");
      draw(true);
      return;
    }
    if (!live) return;
    active.set(stage, { rows, rate: rowsPerS, fraction: info?.fraction });
    draw(false);
  };
}

/** The one summary line printed on stdout. */
export function summaryLine(result: RunResult): string {
  const s = result.summary;
  return (
    `pipeline ok: as_of=${s.asOf} d1=${s.d1} curated=${s.curated} matched=${s.matched} af_only=${s.afOnly} ` +
    `confirmed_only=${s.confirmedOnly} revenue_mismatches=${s.revenueMismatches} campaigns_d1=${s.campaignsD1} ` +
    `anomalies=${s.anomalies} out=${result.outDir} (${(s.ms / 1000).toFixed(2)} s)`
  );
}

/** Clears a half-drawn live bar before an error message. */
const clear = () => (process.stderr.isTTY ? "\r\x1b[K" : "");

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    process.stderr.write(`pipeline: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  // SOURCE_DATE_EPOCH (reproducible-builds convention) pins the report timestamp
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const generatedAt = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : undefined;
  // the run's record: pipeline_runs (DATABASE_URL=postgres://, under the servers' one-run lock) and run.json
  const record = await beginCliRun((message) => process.stderr.write(`pipeline: ${message}\n`));
  if (record === "busy") return 1;
  try {
    const result = await runPipeline({ ...options, generatedAt, onProgress: progressPrinter(process.stderr) });
    const stages = result.stages.map((s) => ({ name: s.name, ms: Math.round(s.ms * 10) / 10, rows: s.rows }));
    const view = await record.finish({ status: "succeeded", stages, summary: { ...result.summary }, errors: [] });
    await writeRunJson(result.outDir, view);
    process.stdout.write(summaryLine(result) + "\n");
    return 0;
  } catch (error) {
    const bad = error instanceof PipelineInputError;
    await record.finish({
      status: "failed",
      stages: [],
      summary: null,
      errors: [{ code: bad ? "bad_input" : "internal_error", message: (error as Error)?.message ?? String(error) }],
    });
    if (bad) {
      process.stderr.write(`${clear()}pipeline: bad input: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`${clear()}pipeline: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
