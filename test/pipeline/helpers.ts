/** Shared test helpers: temp datasets from inline CSV, one pool per test file, parsed outputs. */

import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Piscina } from "piscina";
import { createPipelinePool, type RunOptions, type RunResult, runPipeline } from "../../src/pipeline/run.ts";

export const SAMPLE_DIR = join(import.meta.dir, "fixtures", "sample");

export const PURCHASES_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,status";
export const CONFIRMED_HEADER = "appsflyer_id,event_time_utc,revenue_usd,receipt_id";
export const COSTS_HEADER = "date,campaign,ad_cost_usd";
export const SESSIONS_HEADER = "user_id,event_timestamp_utc,campaign";

/** Minimal valid files, used for whichever file a test does not care about. */
const DEFAULTS = {
  "purchases_raw.csv": `${PURCHASES_HEADER}\nu0,purchase,2025-01-10T12:00:00Z,1.00,DEFAULT,r0,success\n`,
  "confirmed_purchases.csv": `${CONFIRMED_HEADER}\nu0,2025-01-10T12:00:00Z,1.00,r0\n`,
  "costs_daily.csv": `${COSTS_HEADER}\n2025-01-09,DEFAULT,1.00\n`,
  "sessions.csv": `${SESSIONS_HEADER}\nu0,2025-01-09T12:00:00Z,DEFAULT\n`,
};
export type DataFile = keyof typeof DEFAULTS;

const made: string[] = [];

/** A temp folder with `data/` holding the given files (others defaulted; null = leave the file out). */
export function dataset(files: Partial<Record<DataFile, string | null>> = {}): {
  root: string;
  data: string;
  out: string;
} {
  const root = mkdtempSync(join(tmpdir(), "pipeline-test-"));
  made.push(root);
  const data = join(root, "data");
  mkdirSync(data, { recursive: true });
  for (const [name, text] of Object.entries({ ...DEFAULTS, ...files })) {
    if (text !== null && text !== undefined) writeFileSync(join(data, name), text);
  }
  return { root, data, out: join(root, "reports") };
}

/** Removes every temp folder made by dataset(). */
export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Lines to CSV text with a header. */
export function csv(header: string, ...rows: string[]): string {
  return [header, ...rows].join("\n") + "\n";
}

export interface Outputs {
  result: RunResult;
  curated: string;
  curatedRows: string[][];
  reconciliation: {
    tolerance_minutes: number;
    summary: Record<string, number>;
    details: Record<string, unknown>[];
  };
  roasD1: Record<string, unknown>[];
  anomaly: Record<string, unknown>[];
  arpdau: Record<string, unknown>[];
  quality: {
    files: Record<string, { rows: number; skipped: number; reasons: { bad_time: number; bad_number: number } }>;
  };
}

/** Reads the seven outputs of a finished run. */
function readOutputs(out: string, result: RunResult): Outputs {
  const read = (name: string) => readFileSync(join(out, name), "utf8");
  const curated = read("purchases_curated.csv");
  return {
    result,
    curated,
    curatedRows: curated
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",")),
    reconciliation: JSON.parse(read("reconciliation.json")),
    roasD1: JSON.parse(read("roas_d1.json")),
    anomaly: JSON.parse(read("roas_anomaly.json")),
    arpdau: JSON.parse(read("arpdau_d1.json")),
    quality: JSON.parse(read("quality.json")),
  };
}

/** The test file's pool (two threads), destroyed with the file's temp datasets after its last test. */
export function filePool(): Piscina {
  const pool = createPipelinePool(2);
  afterAll(async () => {
    await pool.destroy();
    cleanup();
  });
  return pool;
}

/** Runs the pipeline on a dataset with a shared pool and returns the parsed outputs. */
export async function run(
  pool: Piscina,
  files: Partial<Record<DataFile, string | null>>,
  options: Partial<RunOptions> = {},
): Promise<Outputs> {
  const ds = dataset(files);
  const result = await runPipeline({
    dataDir: ds.data,
    outDir: ds.out,
    toleranceMin: 10,
    workers: 2,
    pool,
    generatedAt: "2025-01-01T00:00:00.000Z",
    ...options,
  });
  return readOutputs(ds.out, result);
}
