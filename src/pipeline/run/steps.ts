/**
 * Steps 2-5 of a run (run.ts strings them together): curate the purchases, reconcile them on the
 * pool, compute the report tables, write the outputs.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Piscina } from "piscina";
import { arpdauD1 } from "../arpdau.ts";
import { applyChargebacks } from "../chargebacks.ts";
import { afRevenueByRow, type Curated, sortCurated } from "../curate.ts";
import { dedupeFirst } from "../dedupe.ts";
import { selectPurchases } from "../filter.ts";
import { CURATED_HEADER, type CuratedChunk, chunkSize, curatedChunks, writeChunks } from "../format/curated-csv.ts";
import { anomalyJson, arpdauJson, dailyRoasJson, jsonText } from "../format/json.ts";
import {
  type RenderedPart,
  reconciliationHead,
  reconciliationSummary,
  reconciliationTail,
  writeReconciliation,
} from "../format/reconciliation-json.ts";
import { formatDate } from "../normalise.ts";
import { taskBuffers } from "../pool.ts";
import { type QualityReport, qualityReport } from "../quality.ts";
import { partitionByAfid } from "../reconcile/partition.ts";
import { addSummaries } from "../reconcile/summary.ts";
import type { PartitionResult, ReconSummary } from "../reconcile/types.ts";
import { renderReport } from "../report/html.ts";
import { anomalies, dailyRoas, roasD1 } from "../roas.ts";
import type { ConfirmedTable, CostsTable, FileKind, Loaded, PurchasesTable, SessionsTable } from "../tables.ts";
import type { StageLog } from "./stage-log.ts";

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

/** Rules 2-5: filter, dedupe, chargebacks, sort. */
export function curate(
  p: PurchasesTable,
  log: StageLog,
): { curated: Curated; duplicates: number; chargebacks: number } {
  const kept = log.timed("filter", p.n, () => selectPurchases(p));
  const unique = log.timed("dedupe", kept.length, () => dedupeFirst(p, kept));
  const cb = log.timed("chargebacks", unique.length, () => applyChargebacks(p, unique));
  const curated = log.timed("sort", unique.length, () => sortCurated(p, unique, cb.revenue, cb.chargeback));
  return { curated, duplicates: kept.length - unique.length, chargebacks: cb.count };
}

/**
 * purchases_curated.csv, rendered in chunks on the pool (at most 4 per thread at once: ~100 MB per
 * thread ahead of the writes; with threads + 1 at 10M the renders trickled out behind the
 * reconciliation and ran last, alone) and written in order.
 */
export function writeCurated(pool: Piscina, path: string, p: PurchasesTable, curated: Curated, threads: number) {
  const render = (chunk: CuratedChunk) => pool.run(chunk, { name: "renderOutputChunk" }) as Promise<Uint8Array>;
  const chunks = curatedChunks(p, curated, chunkSize(curated.n, threads));
  return writeChunks(path, CURATED_HEADER, "", chunks, render, threads * 4);
}

/**
 * Reconciliation partitions: four per thread (a thread that finishes early takes another, so the
 * last one does not run alone), more for big inputs (about 500k rows each, so one partition's
 * working memory stays small).
 */
function partitionCount(rows: number, threads: number): number {
  return Math.max(threads * 4, Math.ceil(rows / 500_000));
}

export interface Reconciled {
  parts: PartitionResult[];
  summary: ReconSummary;
  detailCount: number;
}

/** Rule 6: id-range partitions on the pool, each rendering its own detail lines (written one after the other). */
export async function reconcile(
  pool: Piscina,
  p: PurchasesTable,
  curated: Curated,
  c: ConfirmedTable,
  toleranceSec: number,
  threads: number,
  log: StageLog,
): Promise<Reconciled> {
  const end = log.start("reconcile");
  const afRevenue = afRevenueByRow(p, curated);
  const tasks = partitionByAfid(p, curated, c, partitionCount(curated.n + c.n, threads), toleranceSec, afRevenue);
  const run = (task: (typeof tasks)[number]) => {
    const transferList = taskBuffers(task) as never;
    return pool.run(task, { name: "reconcilePartition", transferList }) as Promise<PartitionResult>;
  };
  const parts = await Promise.all(tasks.map(run));
  const summary = addSummaries(parts);
  const detailCount = parts.reduce((sum, part) => sum + part.type.length, 0);
  end(curated.n + c.n);
  return { parts, summary, detailCount };
}

/** The report tables (rules 7-11 and quality.json): they need the loads, not the reconciliation. */
export interface ReportTables {
  daily: ReturnType<typeof dailyRoasJson>;
  roasD1: ReturnType<typeof dailyRoasJson>;
  anomalies: ReturnType<typeof anomalyJson>;
  arpdau: ReturnType<typeof arpdauJson>;
  quality: QualityReport;
}

/** Rules 7-11: daily ROAS, the D-1 slice, anomalies, ARPDAU, and quality.json. */
export function reportTables(
  input: { p: PurchasesTable; curated: Curated; loaded: Record<FileKind, Loaded>; asOfDay: number },
  log: StageLog,
): ReportTables {
  const { p, curated, loaded, asOfDay } = input;
  const d1 = asOfDay - 1;
  const costs = loaded.costs.table as CostsTable;
  const sessions = loaded.sessions.table as SessionsTable;
  const daily = log.timed("roas", curated.n + costs.n, () => dailyRoas(p, curated, costs));
  const d1Rows = roasD1(daily, d1);
  const anomalyRows = log.timed("anomaly", daily.length, () => anomalies(daily, d1Rows, d1));
  const arpdauRows = log.timed("arpdau", sessions.n, () => arpdauD1(d1Rows, sessions, d1));
  return {
    daily: dailyRoasJson(daily),
    roasD1: dailyRoasJson(d1Rows),
    anomalies: anomalyJson(d1, anomalyRows),
    arpdau: arpdauJson(d1, arpdauRows),
    quality: qualityReport({
      purchases: loaded.purchases.quality,
      confirmed: loaded.confirmed.quality,
      costs: loaded.costs.quality,
      sessions: loaded.sessions.quality,
    }),
  };
}

/** The small outputs' contents (rules 7-12: the tables, the reconciliation summary, index.html). */
export interface Report extends ReportTables {
  reconciliationSummary: Record<string, number>;
  html: string;
}

/** Rule 12: the HTML page over the report tables and the reconciliation summary. */
export function report(
  tables: ReportTables,
  input: { asOfDay: number; recon: ReconSummary; toleranceMin: number; generatedAt: string },
): Report {
  const reconciliation = reconciliationSummary(input.recon);
  const html = renderReport({
    generatedAt: input.generatedAt,
    asOf: formatDate(input.asOfDay),
    d1: formatDate(input.asOfDay - 1),
    daily: tables.daily,
    roasD1: tables.roasD1,
    anomalies: tables.anomalies,
    arpdau: tables.arpdau,
    reconciliation: { tolerance_minutes: input.toleranceMin, summary: reconciliation },
    quality: tables.quality,
  });
  return { ...tables, reconciliationSummary: reconciliation, html };
}

/**
 * Writes the outputs into `dir` (a temporary folder beside `outDir`), then moves them into place:
 * only a run whose every file was written replaces the previous reports.
 */
export async function writeOutputs(
  pool: Piscina,
  dir: string,
  outDir: string,
  toleranceMin: number,
  curatedWrite: Promise<void>,
  recon: Reconciled,
  out: Report,
): Promise<void> {
  await Promise.all([
    curatedWrite,
    writeReconciliation(
      join(dir, "reconciliation.json"),
      reconciliationHead(toleranceMin, recon.summary),
      reconciliationTail(recon.detailCount),
      recon.parts as RenderedPart[],
      (task) => pool.run(task, { name: "writeDetailsChunk" }) as Promise<number>,
    ),
    writeFile(join(dir, "roas_d1.json"), jsonText(out.roasD1)),
    writeFile(join(dir, "roas_anomaly.json"), jsonText(out.anomalies)),
    writeFile(join(dir, "arpdau_d1.json"), jsonText(out.arpdau)),
    writeFile(join(dir, "quality.json"), jsonText(out.quality)),
    writeFile(join(dir, "index.html"), out.html),
  ]);
  await mkdir(outDir, { recursive: true });
  for (const name of OUTPUT_FILES) await rename(join(dir, name), join(outDir, name));
}
