/**
 * The pipeline's Piscina pool (task file workers/pipeline.ts) and the calls the run makes on it.
 */
import { availableParallelism } from "node:os";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import type { LoadProgress, LoadTask, LoadTaskResult } from "../../workers/pipeline.ts";
import { PipelineInputError } from "./errors.ts";
import { FILES, type FileKind, type Loaded } from "./load.ts";
import type { PartitionTask } from "./reconcile.ts";

/** Progress callback: stage name, rows so far, rows per second; info.done on the stage's last call. */
export type ProgressFn = (stage: string, rows: number, rowsPerS: number, info?: { done: boolean; fraction?: number }) => void;

/** The task file of the pool. */
export const WORKER_FILE = new URL("../../workers/pipeline.ts", import.meta.url).href;

/** Threads for a `workers` setting: 0 (or absent) means one per core. */
export function workerCount(workers = 0): number {
  return workers > 0 ? workers : availableParallelism();
}

/** A Piscina pool over workers/pipeline.ts with `workers` threads (0 or absent: the core count). */
export function createPipelinePool(workers = 0): Piscina {
  const threads = workerCount(workers);
  return new Piscina({ filename: WORKER_FILE, minThreads: threads, maxThreads: threads });
}

/** The partition's own arrays move to the worker; the shared id columns are copied. */
export function taskBuffers(task: PartitionTask): ArrayBuffer[] {
  return [task.af.row, task.af.time, task.af.hash, task.conf.row, task.conf.time, task.conf.hash].map((a) => a.buffer as ArrayBuffer);
}

/** Runs one load task on the pool, relaying its progress; bad input becomes a PipelineInputError again. */
export async function loadOnPool(
  pool: Piscina,
  kind: FileKind,
  path: string,
  onlyDay: number | undefined,
  progress: ProgressFn | undefined,
): Promise<{ loaded: Loaded; ms: number }> {
  const name = `load ${FILES[kind]}`;
  const t0 = performance.now();
  const channel = progress ? new MessageChannel() : undefined;
  channel?.port1.on("message", (m: LoadProgress) => {
    progress!(name, m.rows, m.rows / Math.max((performance.now() - t0) / 1000, 1e-6), { done: false, fraction: m.bytes > 0 ? Math.min(1, m.chars / m.bytes) : undefined });
  });
  try {
    const task: LoadTask = { kind, path, onlyDay, port: channel?.port2 };
    const result = (await pool.run(task, { name: "loadTable", transferList: channel ? ([channel.port2] as never) : undefined })) as LoadTaskResult;
    if (!result.ok) throw PipelineInputError.fromJSON(result.error);
    const ms = performance.now() - t0;
    const rows = result.loaded.quality.rows;
    progress?.(name, rows, rows / Math.max(ms / 1000, 1e-6), { done: true, fraction: 1 });
    return { loaded: result.loaded, ms };
  } finally {
    channel?.port1.close();
  }
}
