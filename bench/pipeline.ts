/**
 * `bun run bench:pipeline [-- --purchases 1000000]` — the pipeline benchmark of SPEC §5 / issue 6.
 *
 * 1. Generates the inputs with scripts/gen-data.ts, cached under bench/.cache/<seed>-<n>[-...]/.
 * 2. Runs, in one session on the same files: our pipeline CLI (the candidate: the working tree, or
 *    --ref) with --workers 1 and 2, with --baseline the same from a snapshot of that commit, and
 *    DuckDB executing the same stages as SQL (bench/pipeline-duckdb.ts over bench/duckdb/*.sql),
 *    each as a child process under /usr/bin/time. The runs interleave: for each run index,
 *    baseline w1, candidate w1, baseline w2, candidate w2, DuckDB (bench/pipeline-runs.ts).
 * 3. Prints per configuration wall, user and system CPU, the system share of the CPU, minor and
 *    major page faults, peak RSS, the cores other processes used, and the wall ratios to DuckDB
 *    and to the baseline; per worker count candidate / baseline wall and CPU; wall time per stage
 *    and rows/s. With --runs N every number of a configuration comes from its median run by wall.
 * 4. Compares the outputs: --workers 1 vs 2 and baseline vs candidate per worker count (all seven
 *    files, byte for byte), ours vs DuckDB (summary counts, the D-1 tables value by value, the big
 *    files byte by byte). Exit 1 and a loud MISMATCH with the first differences when they
 *    differ; exit 2 on bad usage.
 *
 *   bun run bench:pipeline -- [--purchases 1000000] [--seed 42] [--days 30] [--campaigns 6]
 *     [--no-sessions-campaign] [--workers 1,2] [--duckdb-threads N] [--tolerance-min 10]
 *     [--as-of YYYY-MM-DD] [--runs 1] [--keep-outputs] [--quiet-wait 60] [--ref HEAD]
 *     [--baseline main] [--generate-only] [--help]
 *
 * --ref and --baseline run our pipeline from a snapshot of that commit (git archive), so edits
 * landing in the working tree during a long run cannot change or break what is measured. Every
 * run gets SOURCE_DATE_EPOCH=0 (the report's timestamp), so index.html compares byte for byte; a
 * baseline older than the CLI's SOURCE_DATE_EPOCH support shows as an index.html MISMATCH.
 *
 * Before each run it waits up to --quiet-wait seconds for the machine to be idle, and reports how
 * many cores other processes used during each run: a shared machine shows in the numbers.
 */
import { mkdirSync, rmSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { OUTPUT_FILES } from "../src/pipeline/run/steps.ts";
import { sourceSnapshot } from "./lib";
import { type Comparison, compareOutputs } from "./pipeline-compare";
import { printReport, type RunRecord } from "./pipeline-report";
import { dataSet, edgeCases, median, outName, runOnce, schedule } from "./pipeline-runs";

const ROOT = resolve(import.meta.dir, "..");

const USAGE = `usage: bun run bench:pipeline -- [options]
  --purchases N           purchases to generate (default 1000000; the data set is cached in bench/.cache)
  --seed S                generator seed (default 42)
  --days N                days of data (default 30, >= 3)
  --campaigns N           campaigns (default 6)
  --no-sessions-campaign  sessions without a campaign column
  --workers 1,2           our worker counts (default 1,2)
  --duckdb-threads N      DuckDB threads (default: its own choice)
  --tolerance-min M       reconciliation tolerance in minutes (default 10)
  --as-of YYYY-MM-DD      as-of date passed to every run (default: the pipeline's own)
  --runs N                runs per configuration; the report shows each one's median run (default 1)
  --ref REF               the candidate: our pipeline from a git-archive snapshot of REF (default: the working tree)
  --baseline REF          also run our pipeline from a snapshot of REF, interleaved with the candidate
                          (same worker counts), print candidate / baseline wall and CPU, and compare
                          the candidate's seven outputs with the baseline's byte for byte
  --keep-outputs          keep the output folders (bench/.cache/out-<pid>)
  --quiet-wait S          wait up to S seconds before each run for an idle machine (default 60; 0: don't)
  --generate-only         generate (or find) the data set and stop
  --help                  this text`;

/** The options of the benchmark (also read by bench/pipeline-runs.ts). */
export interface Options {
  purchases: number;
  seed: string;
  days: number;
  campaigns: number;
  sessionsCampaign: boolean;
  workers: number[];
  duckdbThreads?: number;
  toleranceMin: number;
  asOf?: string;
  runs: number;
  keepOutputs: boolean;
  /** seconds to wait, before each run, for the machine to be idle (other people's load) */
  quietWaitS: number;
  /** generate (or find) the data set and stop */
  generateOnly: boolean;
  /** git ref of the pipeline to measure (exported to a temporary folder), or undefined for the working tree */
  ref?: string;
  /** git ref of the pipeline to measure beside it (exported to a temporary folder), or undefined for none */
  baseline?: string;
}

function usage(message: string): never {
  process.stderr.write(`bench:pipeline: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** Parses argv (after the script); exits 2 on an unknown flag or a bad value, 0 after printing --help. */
export function parseArgs(argv: string[]): Options {
  const o: Options = {
    purchases: 1_000_000,
    seed: "42",
    days: 30,
    campaigns: 6,
    sessionsCampaign: true,
    workers: [1, 2],
    toleranceMin: 10,
    runs: 1,
    keepOutputs: false,
    quietWaitS: 60,
    generateOnly: false,
  };
  const args = argv.filter((a) => a !== "--");
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = () => args[++i] ?? usage(`${flag} needs a value`);
    const ref = () => {
      const v = value();
      return v.startsWith("-") ? usage(`${flag} needs a git ref, not ${v}`) : v;
    };
    const int = (min: number) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) usage(`${flag} must be an integer >= ${min}`);
      return v;
    };
    if (flag === "--purchases") o.purchases = int(1);
    else if (flag === "--seed") o.seed = value();
    else if (flag === "--days") o.days = int(3);
    else if (flag === "--campaigns") o.campaigns = int(1);
    else if (flag === "--no-sessions-campaign") o.sessionsCampaign = false;
    else if (flag === "--workers")
      o.workers = value()
        .split(",")
        .map((w) => (/^\d+$/.test(w) && Number(w) > 0 ? Number(w) : usage("--workers takes a list like 1,2")));
    else if (flag === "--duckdb-threads") o.duckdbThreads = int(1);
    else if (flag === "--tolerance-min") o.toleranceMin = Number(value());
    else if (flag === "--as-of") o.asOf = value();
    else if (flag === "--runs") o.runs = int(1);
    else if (flag === "--keep-outputs") o.keepOutputs = true;
    else if (flag === "--quiet-wait") o.quietWaitS = int(0);
    else if (flag === "--ref") o.ref = ref();
    else if (flag === "--baseline") o.baseline = ref();
    else if (flag === "--help" || flag === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else if (flag === "--generate-only") o.generateOnly = true;
    else usage(`unknown flag ${flag}`);
  }
  if (!(o.toleranceMin >= 0)) usage("--tolerance-min must be a number >= 0");
  return o;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.generateOnly) {
    await dataSet(o);
    return 0;
  }
  const outRoot = join(ROOT, "bench", ".cache", `out-${process.pid}`);
  mkdirSync(outRoot, { recursive: true });
  const runs = new Map<string, RunRecord[]>();
  const comparisons: Comparison[] = [];
  let started: Date, load0: number, data: string;
  let source: { root: string; commit: string }, baseline: { root: string; commit: string } | undefined;
  try {
    // the snapshots first: a bad ref fails before a long data generation
    source = sourceSnapshot(ROOT, o.ref, outRoot);
    baseline = o.baseline ? sourceSnapshot(ROOT, o.baseline, join(outRoot, "baseline")) : undefined;
    data = await dataSet(o);
    started = new Date();
    load0 = loadavg()[0]!;
    process.stderr.write("bench: edge cases, ours vs duckdb ...\n");
    comparisons.push(...edgeCases(outRoot, source.root));
    for (let r = 0; r < o.runs; r++) {
      for (const c of schedule(o.workers, baseline !== undefined)) {
        const root = c.kind === "baseline" ? baseline!.root : source.root;
        const rec = await runOnce(c, o, data, join(outRoot, outName(c)), root);
        runs.set(rec.label, [...(runs.get(rec.label) ?? []), rec]);
      }
      if (r === 0) {
        process.stderr.write("bench: comparing outputs ...\n");
        const first = join(outRoot, `ours-w${o.workers[0]}`);
        for (const w of o.workers.slice(1))
          comparisons.push(compareOutputs(first, join(outRoot, `ours-w${w}`), OUTPUT_FILES));
        if (baseline)
          for (const w of o.workers)
            comparisons.push(
              compareOutputs(join(outRoot, `baseline-w${w}`), join(outRoot, `ours-w${w}`), OUTPUT_FILES),
            );
        comparisons.push(compareOutputs(first, join(outRoot, "duckdb")));
      }
    }
  } finally {
    if (!o.keepOutputs) rmSync(outRoot, { recursive: true, force: true });
  }
  const ok = printReport({
    command: `bun run bench:pipeline -- ${process.argv
      .slice(2)
      .filter((a) => a !== "--")
      .join(" ")}`.trim(),
    date: started.toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free), load average ${load0.toFixed(2)} at start`,
    data,
    source: source.commit,
    baseline: baseline?.commit,
    runs: [...runs.values()].map(median),
    allRuns: [...runs.values()],
    comparisons,
    keptOutputs: o.keepOutputs ? outRoot : undefined,
  });
  return ok ? 0 : 1;
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`bench:pipeline: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
