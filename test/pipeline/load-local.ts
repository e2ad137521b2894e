/**
 * Test-only loaders: read one input file in this thread (the fast reader in one segment, or the
 * papaparse fallback) and merge it, the same code path the pool runs.
 */
import { readWhole } from "../../src/pipeline/read/fallback.ts";
import { mergeSegments } from "../../src/pipeline/read/merge.ts";
import type { ReadProgress } from "../../src/pipeline/read/papaparse.ts";
import { chainSegments, noDataCheck, planRead, segmentTasks } from "../../src/pipeline/read/plan.ts";
import { readSegment, type Segment, type SegmentTask } from "../../src/pipeline/read/segment.ts";
import type {
  ConfirmedTable,
  CostsTable,
  FileKind,
  Loaded,
  PurchasesTable,
  SessionsTable,
} from "../../src/pipeline/tables.ts";

export interface LoadOptions {
  /** sessions only: keep just the rows of this epoch day (the D-1 of an explicit --as-of) */
  onlyDay?: number;
  onProgress?: ReadProgress;
}

/** Reads a file in this thread (tests and small callers): the fast reader in one segment, or papaparse. */
async function loadLocal(kind: FileKind, path: string, options: LoadOptions = {}): Promise<Loaded> {
  const plan = await planRead(kind, path);
  let segments: Segment[] | null = null;
  if (plan.fast) {
    const tasks = segmentTasks(kind, path, plan, options.onlyDay, Infinity);
    const run = (t: SegmentTask) => Promise.resolve(readSegment(t));
    segments = await chainSegments(plan, tasks, tasks.map(run), run);
    if (segments) noDataCheck(kind, plan, segments);
  }
  segments ??= [await readWhole(kind, path, options.onlyDay, options.onProgress)];
  // a local table needs no shared memory, but the same merge keeps one code path
  const loaded = mergeSegments(kind, segments);
  options.onProgress?.(plan.size, plan.size, loaded.quality.rows);
  return loaded;
}

/** Reads purchases_raw.csv. */
export async function loadPurchases(path: string, options: LoadOptions = {}): Promise<Loaded<PurchasesTable>> {
  return (await loadLocal("purchases", path, options)) as Loaded<PurchasesTable>;
}

/** Reads confirmed_purchases.csv (event_name and campaign, when present, are not used). */
export async function loadConfirmed(path: string, options: LoadOptions = {}): Promise<Loaded<ConfirmedTable>> {
  return (await loadLocal("confirmed", path, options)) as Loaded<ConfirmedTable>;
}

/** Reads costs_daily.csv. */
export async function loadCosts(path: string, options: LoadOptions = {}): Promise<Loaded<CostsTable>> {
  return (await loadLocal("costs", path, options)) as Loaded<CostsTable>;
}

/** Reads sessions.csv: the timestamp column wins over the date column when both exist. */
export async function loadSessions(path: string, options: LoadOptions = {}): Promise<Loaded<SessionsTable>> {
  return (await loadLocal("sessions", path, options)) as Loaded<SessionsTable>;
}
