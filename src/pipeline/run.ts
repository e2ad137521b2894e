/**
 * Orchestrates one pipeline run (SPEC 4): load the four files on the pool, curate, reconcile
 * (hash-partitioned on the pool), ROAS, anomalies, ARPDAU, then write the seven outputs into a
 * temporary folder beside the reports folder and move them into place only when all succeeded.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Piscina } from "piscina";
import { arpdauD1 } from "./arpdau.ts";
import {
  createPipelinePool,
  isWorkerCount,
  loadOnPool,
  MAX_WORKERS,
  taskBuffers,
  workerCount,
  type ProgressFn,
} from "./pool.ts";
import { applyChargebacks } from "./chargebacks.ts";
import { afRevenueByRow, sortCurated } from "./curate.ts";
import { dedupeFirst } from "./dedupe.ts";
import { PipelineInputError } from "./errors.ts";
import { usd } from "./exact.ts";
import { selectPurchases } from "./filter.ts";
import { planRead, type ReadPlan } from "./read/plan.ts";
import {
  FILE_KINDS,
  FILES,
  type ConfirmedTable,
  type CostsTable,
  type FileKind,
  type Loaded,
  type PurchasesTable,
  type SessionsTable,
} from "./tables.ts";
import { formatDate, parseDate } from "./normalise.ts";
import { chunkSize, curatedChunks, CURATED_HEADER, writeChunks, type CuratedChunk } from "./format/curated-csv.ts";
import { anomalyJson, arpdauJson, jsonText, ratioOut, roasD1Json } from "./format/json.ts";
import {
  reconciliationHead,
  reconciliationSummary,
  reconciliationTail,
  writeReconciliation,
  type RenderedPart,
} from "./format/reconciliation-json.ts";
import { qualityReport } from "./quality.ts";
import { partitionByAfid } from "./reconcile/partition.ts";
import { addSummaries } from "./reconcile/summary.ts";
import type { PartitionResult } from "./reconcile/types.ts";
import { renderReport, type ReportInput } from "./report.ts";
import { anomalies, dailyRoas, latestKeptDay, roasD1, roasOf } from "./roas.ts";

export { createPipelinePool, workerCount, type ProgressFn } from "./pool.ts";

/** The seven files a successful run leaves in the reports folder. */
export const OUTPUT_FILES = [
  "purchases_curated.csv",
  "reconciliation.json",
  "roas_d1.json",
  "roas_anomaly.json",
  "arpdau_d1.json",
  "quality.json",
  "index.html",
] as const;

export interface RunOptions {
  dataDir: string;
  outDir: string;
  /** YYYY-MM-DD; default: the latest UTC date among the curated purchases */
  asOf?: string;
  toleranceMin: number;
  /** worker threads (1..MAX_WORKERS, as --workers) when no pool is given; also the least number of reconciliation partitions */
  workers: number;
  /** shared pool (the HTTP server's); when absent one is created and destroyed by the run */
  pool?: Piscina;
  onProgress?: ProgressFn;
  /** report timestamp; fixed in tests so index.html is byte-identical across runs */
  generatedAt?: string;
}

export interface StageTiming {
  name: string;
  ms: number;
  rows: number;
}

export interface RunSummary {
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
    throw new PipelineInputError("--tolerance-min", undefined, undefined, `must be a number >= 0, got ${options.toleranceMin}`);
  }
  if (!isWorkerCount(options.workers)) {
    const message = `must be an integer from 1 to ${MAX_WORKERS}, got ${options.workers}`;
    throw new PipelineInputError("--workers", undefined, undefined, message);
  }
  let asOfDay: number | undefined;
  if (options.asOf !== undefined) {
    asOfDay = parseDate(options.asOf);
    if (asOfDay !== asOfDay || options.asOf.length !== 10) {
      throw new PipelineInputError("--as-of", undefined, undefined, `must be a real date YYYY-MM-DD, got "${options.asOf}"`);
    }
  }
  return { asOfDay, toleranceSec: options.toleranceMin * 60 };
}

/**
 * Reconciliation partitions: one per thread, more for big inputs (about 2M rows each), so one
 * partition's working memory stays small and the threads share the work evenly.
 */
export function partitionCount(rows: number, threads: number): number {
  return Math.max(threads, Math.ceil(rows / 2_000_000));
}

/** Runs the whole pipeline; throws PipelineInputError on bad input (previous reports untouched). */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { asOfDay: explicitAsOf, toleranceSec } = validate(options);
  const stages: StageTiming[] = [];
  const progress = options.onProgress;
  /** Times a synchronous stage and reports it. */
  const timed = <T>(name: string, rows: number, fn: () => T): T => {
    progress?.(name, 0, 0, { done: false });
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    stages.push({ name, ms, rows });
    progress?.(name, rows, rows / Math.max(ms / 1000, 1e-6), { done: true, fraction: 1 });
    return out;
  };

  const pool = options.pool ?? createPipelinePool(options.workers);
  let tmp: string | undefined;
  let curatedWrite: Promise<void> | undefined;
  try {
    // Load on the pool. Without --as-of, D-1 comes from the purchases, so sessions.csv is read
    // once they are loaded and keeps only D-1 rows (not every session of the file in memory);
    // the confirmed purchases keep the pool busy meanwhile.
    const load = (kind: FileKind, onlyDay?: number, plan?: ReadPlan) => {
      const started = loadOnPool(pool, kind, join(options.dataDir, FILES[kind]), onlyDay, progress, undefined, plan);
      started.catch(() => {}); // settled below, in SPEC file order
      return started;
    };
    // sessions.csv's head is probed now, so its reads can be queued the moment D-1 is known
    const sessionsPlan = explicitAsOf === undefined ? planRead("sessions", join(options.dataDir, FILES.sessions)) : undefined;
    sessionsPlan?.catch(() => {}); // a bad header surfaces through the sessions load
    const loads: Partial<Record<FileKind, ReturnType<typeof load>>> = {
      purchases: load("purchases"),
      confirmed: load("confirmed"),
      costs: load("costs"),
      sessions: explicitAsOf !== undefined ? load("sessions", explicitAsOf - 1) : undefined,
    };
    /** All four loads settled: the first failure in SPEC order, then the first file with no usable row. */
    const settleLoads = async (): Promise<Record<FileKind, Loaded>> => {
      const loaded = {} as Record<FileKind, Loaded>;
      const results = await Promise.allSettled(FILE_KINDS.map((kind) => loads[kind]!));
      FILE_KINDS.forEach((kind, i) => {
        const result = results[i]!;
        if (result.status === "rejected") throw result.reason;
        loaded[kind] = result.value.loaded;
      });
      for (const kind of FILE_KINDS) {
        const { quality: q, usable } = loaded[kind];
        if (usable === 0) {
          const first = q.firstBad!;
          throw new PipelineInputError(FILES[kind], first.line, first.column, `no usable row: all ${q.rows} data rows were skipped (first: ${first.reason})`);
        }
      }
      return loaded;
    };
    let purchases: Loaded;
    try {
      purchases = (await loads.purchases!).loaded;
    } catch (error) {
      loads.sessions ??= sessionsPlan!.then((plan) => loadOnPool(pool, "sessions", join(options.dataDir, FILES.sessions), NaN, progress, undefined, plan));
      loads.sessions.catch(() => {});
      await Promise.allSettled(Object.values(loads));
      throw error; // purchases_raw.csv is first in SPEC order
    }
    const p = purchases.table as PurchasesTable;
    // the latest kept purchase dates the report (dedupe keeps a row of every kept time): sessions can start now
    const asOfDay = explicitAsOf ?? latestKeptDay(p);
    if (!loads.sessions) {
      // queued before the curation below keeps this thread busy (NaN: no curated purchase, validate only)
      const plan = await sessionsPlan!.catch((error: unknown) => error);
      loads.sessions = plan instanceof Error ? Promise.reject(plan) : load("sessions", asOfDay - 1, plan as ReadPlan);
      loads.sessions.catch(() => {});
    }

    // Curate: filter, dedupe, chargebacks, sort
    const kept = timed("filter", p.n, () => selectPurchases(p));
    const unique = timed("dedupe", kept.length, () => dedupeFirst(p, kept));
    const cb = timed("chargebacks", unique.length, () => applyChargebacks(p, unique));
    const curated = timed("sort", unique.length, () => sortCurated(p, unique, cb.revenue, cb.chargeback));

    // purchases_curated.csv needs nothing else: render it while the other files load
    const threads = workerCount(options.workers);
    const render = (chunk: CuratedChunk) => pool.run(chunk, { name: "renderOutputChunk" }) as Promise<Uint8Array>;
    const outDir = resolve(options.outDir);
    await mkdir(dirname(outDir), { recursive: true });
    tmp = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.tmp-`));
    const tw = performance.now();
    progress?.("write", 0, 0, { done: false });
    curatedWrite = writeChunks(join(tmp, "purchases_curated.csv"), CURATED_HEADER, "", curatedChunks(p, curated, chunkSize(curated.n, threads)), render, threads + 1);
    curatedWrite.catch(() => {}); // awaited below

    const loaded = await settleLoads();
    for (const kind of FILE_KINDS) {
      const { ms } = await loads[kind]!;
      stages.splice(FILE_KINDS.indexOf(kind), 0, { name: `load ${FILES[kind]}`, ms, rows: loaded[kind].quality.rows });
    }
    if (asOfDay !== asOfDay) {
      throw new PipelineInputError(FILES.purchases, undefined, undefined, "no curated purchase (no success/purchase row with revenue > 0) and no --as-of to date the report");
    }
    const d1 = asOfDay - 1;
    const c = loaded.confirmed.table as ConfirmedTable;
    const costs = loaded.costs.table as CostsTable;
    const sessions = loaded.sessions.table as SessionsTable;

    // Reconcile: hash partitions on the pool, deterministic merge
    progress?.("reconcile", 0, 0, { done: false });
    const t0 = performance.now();
    // each partition also renders its detail lines (its rows are at hand, id by id); the main thread merges them in id order
    const afRevenue = afRevenueByRow(p, curated);
    const tasks = partitionByAfid(p, curated, c, partitionCount(curated.n + c.n, threads), toleranceSec, afRevenue);
    const parts = await Promise.all(
      tasks.map((task) => pool.run(task, { name: "reconcilePartition", transferList: taskBuffers(task) as never }) as Promise<PartitionResult>),
    );
    const recon = addSummaries(parts);
    const detailCount = parts.reduce((sum, part) => sum + part.type.length, 0);
    const reconMs = performance.now() - t0;
    stages.push({ name: "reconcile", ms: reconMs, rows: curated.n + c.n });
    progress?.("reconcile", curated.n + c.n, (curated.n + c.n) / Math.max(reconMs / 1000, 1e-6), { done: true, fraction: 1 });

    const daily = timed("roas", curated.n + costs.n, () => dailyRoas(p, curated, costs));
    const d1Rows = roasD1(daily, d1);
    const anomalyRows = timed("anomaly", daily.length, () => anomalies(daily, d1Rows, d1));
    const arpdauRows = timed("arpdau", sessions.n, () => arpdauD1(d1Rows, sessions, d1));

    const quality = qualityReport({
      purchases: loaded.purchases.quality,
      confirmed: loaded.confirmed.quality,
      costs: loaded.costs.quality,
      sessions: loaded.sessions.quality,
    });
    const roasD1Out = roasD1Json(d1Rows);
    const anomalyOut = anomalyJson(d1, anomalyRows);
    const arpdauOut = arpdauJson(d1, arpdauRows);
    const summaryOut = reconciliationSummary(recon);
    const report: ReportInput = {
      generatedAt: options.generatedAt ?? new Date().toISOString(),
      asOf: formatDate(asOfDay),
      d1: formatDate(d1),
      daily: daily.map((r) => ({
        date: formatDate(r.day),
        campaign: r.campaign,
        revenue_usd: usd(r.revenueMicro),
        ad_cost_usd: r.hasCost ? usd(r.costMicro) : null,
        roas: ratioOut(roasOf(r)),
      })),
      roasD1: roasD1Out,
      anomalies: anomalyOut,
      arpdau: arpdauOut,
      reconciliation: { tolerance_minutes: options.toleranceMin, summary: summaryOut },
      quality,
    };

    // Write: temp folder beside outDir, moved into place only when every file is written
    const dir = tmp;
    await Promise.all([
      curatedWrite,
      writeReconciliation(
        join(dir, "reconciliation.json"),
        reconciliationHead(options.toleranceMin, recon),
        reconciliationTail(detailCount),
        parts as RenderedPart[],
        (task) => pool.run(task, { name: "writeDetailsChunk" }) as Promise<number>,
      ),
      writeFile(join(dir, "roas_d1.json"), jsonText(roasD1Out)),
      writeFile(join(dir, "roas_anomaly.json"), jsonText(anomalyOut)),
      writeFile(join(dir, "arpdau_d1.json"), jsonText(arpdauOut)),
      writeFile(join(dir, "quality.json"), jsonText(quality)),
      writeFile(join(dir, "index.html"), renderReport(report)),
    ]);
    await mkdir(outDir, { recursive: true });
    for (const name of OUTPUT_FILES) await rename(join(dir, name), join(outDir, name));
    const writeMs = performance.now() - tw;
    const written = curated.n + detailCount;
    stages.push({ name: "write", ms: writeMs, rows: written });
    progress?.("write", written, written / Math.max(writeMs / 1000, 1e-6), { done: true, fraction: 1 });

    const summary: RunSummary = {
      asOf: report.asOf,
      d1: report.d1,
      toleranceMinutes: options.toleranceMin,
      files: Object.fromEntries(FILE_KINDS.map((k) => [FILES[k], { rows: loaded[k].quality.rows, skipped: loaded[k].quality.skipped }])),
      curated: curated.n,
      duplicates: kept.length - unique.length,
      chargebacks: cb.count,
      matched: recon.matched,
      afOnly: recon.afOnly,
      confirmedOnly: recon.confirmedOnly,
      revenueMismatches: recon.revenueMismatches,
      matchedRevenueUsd: summaryOut.matched_revenue_usd!,
      campaignsD1: d1Rows.length,
      anomalies: anomalyRows.filter((a) => a.anomaly).length,
      ms: Math.round(performance.now() - started),
    };
    return { summary, stages, outDir };
  } finally {
    if (curatedWrite) await curatedWrite.catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (!options.pool) await pool.destroy();
  }
}
