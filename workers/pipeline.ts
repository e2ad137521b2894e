/**
 * Piscina task file: each named export is one task. Results carry their typed arrays as
 * transferables, so tables cross back to the main thread without a copy.
 */
import type { MessagePort } from "node:worker_threads";
import { move, transferableSymbol, valueSymbol } from "piscina";
import { buffersOf } from "../src/pipeline/columns.ts";
import { PipelineInputError, type PipelineInputErrorData } from "../src/pipeline/errors.ts";
import { loadFile, type FileKind, type Loaded } from "../src/pipeline/load.ts";
import { matchPartition, type PartitionResult, type PartitionTask } from "../src/pipeline/reconcile.ts";
import { renderChunk, type Chunk } from "../src/pipeline/write.ts";

/** Progress message a load task posts on its port. */
export interface LoadProgress {
  chars: number;
  bytes: number;
  rows: number;
}

export interface LoadTask {
  kind: FileKind;
  path: string;
  onlyDay?: number;
  port?: MessagePort;
}

export type LoadTaskResult = { ok: true; loaded: Loaded; ms: number } | { ok: false; error: PipelineInputErrorData };

function transfer<T>(value: T, buffers: ArrayBuffer[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as T;
}

/** Parses and normalises one input file into a columnar table. Bad input comes back as data. */
export async function loadTable(task: LoadTask): Promise<LoadTaskResult> {
  const started = performance.now();
  let lastPost = 0;
  try {
    const loaded = await loadFile(task.kind, task.path, {
      onlyDay: task.onlyDay,
      onProgress: task.port
        ? (chars, bytes, rows) => {
            const now = performance.now();
            if (now - lastPost < 100) return; // ~10 updates a second is plenty for a bar
            lastPost = now;
            task.port!.postMessage({ chars, bytes, rows } satisfies LoadProgress);
          }
        : undefined,
    });
    return transfer({ ok: true, loaded, ms: performance.now() - started }, buffersOf(loaded.table));
  } catch (error) {
    // class identity does not survive the worker boundary: send the fields instead
    if (error instanceof PipelineInputError) return { ok: false, error: error.toJSON() };
    throw error;
  } finally {
    task.port?.close();
  }
}

/** Matches one appsflyer_id partition; returns its details sorted for the merge. */
export function reconcilePartition(task: PartitionTask): PartitionResult {
  const details = matchPartition(task);
  return transfer(details, buffersOf(details));
}

/** Renders one chunk of purchases_curated.csv or of the reconciliation details to UTF-8. */
export function renderOutputChunk(chunk: Chunk): Uint8Array {
  const bytes = renderChunk(chunk);
  return transfer(bytes, [bytes.buffer as ArrayBuffer]);
}
