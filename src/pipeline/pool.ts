/**
 * The pipeline's Piscina pool (task file workers/pipeline.ts) and the calls the run makes on it.
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { PipelineInputError } from "./errors.ts";
import type { WholeTask, WholeTaskResult } from "./messages.ts";
import { mergeSegments } from "./read/merge.ts";
import { chainSegments, noDataCheck, planRead, type ReadPlan, segmentTasks } from "./read/plan.ts";
import type { Irregular, Segment, SegmentTask } from "./read/segment.ts";
import type { PartitionTask } from "./reconcile/types.ts";
import { FILES, type FileKind, type Loaded } from "./tables.ts";

/** Progress callback: stage name, rows so far, rows per second; info.done on the stage's last call. */
export type ProgressFn = (
  stage: string,
  rows: number,
  rowsPerS: number,
  info?: { done: boolean; fraction?: number },
) => void;

/** The task file of the pool. */
const WORKER_FILE = new URL("../../workers/pipeline.ts", import.meta.url).href;

/** Bytes of input per load task: enough tasks to keep every thread busy, few enough to stay cheap. */
const SEGMENT_BYTES = 16 << 20;

/** Most worker threads a run takes (`--workers`, PIPELINE_WORKERS): the CLI and runPipeline share this limit. */
export const MAX_WORKERS = 256;

/** A valid worker thread count: an integer from 1 to MAX_WORKERS. */
export function isWorkerCount(workers: number): boolean {
  return Number.isInteger(workers) && workers >= 1 && workers <= MAX_WORKERS;
}

/** Threads for a `workers` setting: absent means one per core. */
export function workerCount(workers?: number): number {
  return workers ?? availableParallelism();
}

/** A Piscina pool over workers/pipeline.ts with `workers` threads (absent: the core count). */
export function createPipelinePool(workers?: number): Piscina {
  const threads = workerCount(workers);
  // up to 8 tasks handed to each thread at once: it goes on to the next without the main thread,
  // which is busy for ~0.7 s at a time (merging and curating the purchases) while the pool reads
  // the other files; with one task each, both threads sat idle ~0.4 s of that (traced at 1M)
  return new Piscina({ filename: WORKER_FILE, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 8 });
}

/** The partition's own row lists move to the worker; the table columns are shared memory. */
export function taskBuffers(task: PartitionTask): ArrayBuffer[] {
  return [task.af.rows, task.conf.rows].map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/** How loadOnPool reads a file. */
export interface LoadOptions {
  /** sessions: keep only this epoch day's rows (NaN: validate only) */
  onlyDay?: number;
  progress?: ProgressFn;
  /** bytes of input per read task */
  segmentBytes?: number;
  /** the file's plan, when already probed */
  planned?: ReadPlan;
  /** called once the pool has read the file, before the main thread merges it */
  onRead?: () => void;
}

/**
 * Loads one input file on the pool: byte ranges read in parallel by the fast reader, chained and
 * merged in file order; a file the fast reader does not take is read whole through papaparse.
 * Bad input becomes a PipelineInputError again.
 */
export async function loadOnPool(
  pool: Piscina,
  kind: FileKind,
  path: string,
  options: LoadOptions = {},
): Promise<{ loaded: Loaded; ms: number }> {
  const { onlyDay, progress, segmentBytes = SEGMENT_BYTES, planned, onRead } = options;
  const name = `load ${FILES[kind]}`;
  const t0 = performance.now();
  // with a plan at hand the read tasks are queued before this function first yields
  const plan = planned ?? (await planRead(kind, path));
  let segments: Segment[] | null = null;
  if (plan.fast) {
    const tasks = segmentTasks(kind, path, plan, onlyDay, segmentBytes);
    const run = (task: SegmentTask) => pool.run(task, { name: "loadSegment" }) as Promise<Segment | Irregular>;
    let bytes = 0,
      rows = 0;
    const results = tasks.map((task) => {
      const reading = run(task);
      reading.then(
        (r) => {
          if ("irregular" in r) return;
          bytes += r.end - r.start;
          rows += r.quality.rows;
          const rate = rows / Math.max((performance.now() - t0) / 1000, 1e-6);
          progress?.(name, rows, rate, { done: false, fraction: Math.min(1, bytes / plan.size) });
        },
        () => {}, // failures surface through chainSegments
      );
      return reading;
    });
    segments = await chainSegments(plan, tasks, results, run).finally(onRead);
    if (segments) noDataCheck(kind, plan, segments);
  }
  if (!segments) {
    const task: WholeTask = { kind, path, onlyDay };
    const result = (await pool.run(task, { name: "loadWhole" }).finally(onRead)) as WholeTaskResult;
    if (!result.ok) throw PipelineInputError.fromJSON(result.error);
    segments = [result.segment];
  }
  const loaded = mergeSegments(kind, segments);
  const ms = performance.now() - t0;
  const total = loaded.quality.rows;
  progress?.(name, total, total / Math.max(ms / 1000, 1e-6), { done: true, fraction: 1 });
  return { loaded, ms };
}
