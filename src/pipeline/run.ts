/**
 * One pipeline run (SPEC 4) in five steps: load the four files on the pool (run/load-inputs.ts),
 * curate, reconcile (partitioned by appsflyer_id range on the pool), compute the report tables,
 * then write the seven outputs into a temporary folder beside the reports folder and move them
 * into place only when all succeeded (run/steps.ts).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Piscina } from "piscina";
import { PipelineInputError } from "./errors.ts";
import { formatDate, parseDate } from "./normalise.ts";
import { createPipelinePool, isWorkerCount, MAX_WORKERS, type ProgressFn, workerCount } from "./pool.ts";
import { latestKeptDay } from "./roas.ts";
import { InputLoads } from "./run/load-inputs.ts";
import { StageLog, type StageTiming } from "./run/stage-log.ts";
import { curate, type Reconciled, reconcile, report, reportTables, writeCurated, writeOutputs } from "./run/steps.ts";
import { FILE_KINDS, FILES } from "./tables.ts";

export { createPipelinePool, type ProgressFn } from "./pool.ts";
export { OUTPUT_FILES } from "./run/steps.ts";

export interface RunOptions {
  dataDir: string;
  outDir: string;
  /** YYYY-MM-DD; default: the latest UTC date among the curated purchases */
  asOf?: string;
  toleranceMin: number;
  /** worker threads (1..MAX_WORKERS, as --workers) when no pool is given; the least number of reconciliation
   * partitions */
  workers: number;
  /** shared pool (the HTTP server's); when absent one is created and destroyed by the run */
  pool?: Piscina;
  onProgress?: ProgressFn;
  /** report timestamp; fixed in tests so index.html is byte-identical across runs */
  generatedAt?: string;
}

interface RunSummary {
  asOf: string;
  d1: string;
  toleranceMinutes: number;
  files: Record<string, { rows: number; skipped: number }>;
  curated: number;
  duplicates: number;
  chargebacks: number;
  matched: number;
  afOnly: number;
  confirmedOnly: number;
  revenueMismatches: number;
  matchedRevenueUsd: number;
  campaignsD1: number;
  anomalies: number;
  ms: number;
}

export interface RunResult {
  summary: RunSummary;
  stages: StageTiming[];
  outDir: string;
}

function validate(options: RunOptions): { asOfDay: number | undefined; toleranceSec: number } {
  if (!Number.isFinite(options.toleranceMin) || options.toleranceMin < 0) {
    const message = `must be a number >= 0, got ${options.toleranceMin}`;
    throw new PipelineInputError("--tolerance-min", undefined, undefined, message);
  }
  if (!isWorkerCount(options.workers)) {
    const message = `must be an integer from 1 to ${MAX_WORKERS}, got ${options.workers}`;
    throw new PipelineInputError("--workers", undefined, undefined, message);
  }
  let asOfDay: number | undefined;
  if (options.asOf !== undefined) {
    asOfDay = parseDate(options.asOf);
    if (asOfDay !== asOfDay || options.asOf.length !== 10) {
      const message = `must be a real date YYYY-MM-DD, got "${options.asOf}"`;
      throw new PipelineInputError("--as-of", undefined, undefined, message);
    }
  }
  return { asOfDay, toleranceSec: options.toleranceMin * 60 };
}

/** A temporary folder beside `outDir` (same file system: the outputs move into place by rename). */
async function tempDirBeside(outDir: string): Promise<string> {
  await mkdir(dirname(outDir), { recursive: true });
  return mkdtemp(join(dirname(outDir), `.${basename(outDir)}.tmp-`));
}

/** Runs the whole pipeline; throws PipelineInputError on bad input (previous reports untouched). */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { asOfDay: explicitAsOf, toleranceSec } = validate(options);
  const log = new StageLog(options.onProgress);
  const pool = options.pool ?? createPipelinePool(options.workers);
  const threads = workerCount(options.workers);
  let tmp: string | undefined;
  let curatedWrite: Promise<void> | undefined;
  let reconciling: Promise<Reconciled> | undefined;
  try {
    // 1. load (sessions.csv waits for D-1 when --as-of is not given)
    const inputs = new InputLoads(pool, options.dataDir, explicitAsOf, options.onProgress);
    const p = await inputs.purchases();
    // the latest kept purchase dates the report (dedupe keeps a row of every kept time)
    const asOfDay = explicitAsOf ?? latestKeptDay(p);
    await inputs.startSessions(asOfDay - 1); // queued before the curation below keeps this thread busy

    // 2. curate
    const { curated, duplicates, chargebacks } = curate(p, log);
    const outDir = resolve(options.outDir);
    tmp = await tempDirBeside(outDir);
    const endWrite = log.start("write");

    // purchases_curated.csv needs nothing else: it renders on the pool while the other files load
    curatedWrite = writeCurated(pool, join(tmp, "purchases_curated.csv"), p, curated, threads);
    curatedWrite.catch(() => {}); // awaited with the other outputs

    // 3. reconcile, queued the moment the confirmed purchases are loaded (the pool may still be
    // reading sessions.csv)
    const c = await inputs.confirmed(log);
    reconciling = reconcile(pool, p, curated, c, toleranceSec, threads, log);
    reconciling.catch(() => {}); // awaited below, after the loads' errors

    const loaded = await inputs.settle(log);
    if (asOfDay !== asOfDay) {
      const message =
        "no curated purchase (no success/purchase row with revenue > 0) and no --as-of to date the report";
      throw new PipelineInputError(FILES.purchases, undefined, undefined, message);
    }

    // 4. report tables, on this thread while the pool reconciles; the page once it has
    const tables = reportTables({ p, curated, loaded, asOfDay }, log);
    const recon = await reconciling;
    const generatedAt = options.generatedAt ?? new Date().toISOString();
    const out = report(tables, { asOfDay, recon: recon.summary, toleranceMin: options.toleranceMin, generatedAt });

    // 5. write
    await writeOutputs(pool, tmp, outDir, options.toleranceMin, curatedWrite, recon, out);
    endWrite(curated.n + recon.detailCount);

    const summary: RunSummary = {
      asOf: formatDate(asOfDay),
      d1: formatDate(asOfDay - 1),
      toleranceMinutes: options.toleranceMin,
      files: Object.fromEntries(
        FILE_KINDS.map((k) => [FILES[k], { rows: loaded[k].quality.rows, skipped: loaded[k].quality.skipped }]),
      ),
      curated: curated.n,
      duplicates,
      chargebacks,
      matched: recon.summary.matched,
      afOnly: recon.summary.afOnly,
      confirmedOnly: recon.summary.confirmedOnly,
      revenueMismatches: recon.summary.revenueMismatches,
      matchedRevenueUsd: out.reconciliationSummary.matched_revenue_usd!,
      campaignsD1: out.roasD1.length,
      anomalies: out.anomalies.filter((a) => a.anomaly).length,
      ms: Math.round(performance.now() - started),
    };
    return { summary, stages: log.stages, outDir };
  } finally {
    if (reconciling) await reconciling.catch(() => {});
    if (curatedWrite) await curatedWrite.catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (!options.pool) await pool.destroy();
  }
}
