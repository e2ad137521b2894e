/**
 * Piscina task file: each named export is one task. Results carry their typed arrays as
 * transferables (or in shared memory), so tables cross back to the main thread without a copy.
 */
import { move, transferableSymbol, valueSymbol } from "piscina";
import { buffersOf } from "../src/pipeline/columns/memory.ts";
import { PipelineInputError } from "../src/pipeline/errors.ts";
import { type CuratedChunk, curatedBytes } from "../src/pipeline/format/curated-csv.ts";
import {
  type DetailsChunkTask,
  writeDetailsChunk as writeChunkNow,
} from "../src/pipeline/format/reconciliation-json.ts";
import type { WholeTask, WholeTaskResult } from "../src/pipeline/messages.ts";
import { readWhole } from "../src/pipeline/read/fallback.ts";
import { type Irregular, readSegment, type Segment, type SegmentTask } from "../src/pipeline/read/segment.ts";
import { matchPartition } from "../src/pipeline/reconcile/match.ts";
import type { PartitionResult, PartitionTask } from "../src/pipeline/reconcile/types.ts";

function transfer<T>(value: T, buffers: ArrayBuffer[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as T;
}

/** Reads one byte range of an input file with the fast reader. */
export function loadSegment(task: SegmentTask): Segment | Irregular {
  const result = readSegment(task);
  return "irregular" in result ? result : transfer(result, buffersOf(result.cols));
}

/** Reads a whole input file through papaparse (files the fast reader does not take). Bad input comes back as data. */
export async function loadWhole(task: WholeTask): Promise<WholeTaskResult> {
  try {
    const segment = await readWhole(task.kind, task.path, task.onlyDay);
    return transfer({ ok: true, segment }, buffersOf(segment.cols));
  } catch (error) {
    // class identity does not survive the worker boundary: send the fields instead
    if (error instanceof PipelineInputError) return { ok: false, error: error.toJSON() };
    throw error;
  }
}

/** Matches one appsflyer_id partition; returns its details sorted for the merge (rendered when the task asks). */
export function reconcilePartition(task: PartitionTask): PartitionResult {
  const details = matchPartition(task);
  return transfer(details, buffersOf(details));
}

/** Renders one chunk of purchases_curated.csv to UTF-8. */
export function renderOutputChunk(chunk: CuratedChunk): Uint8Array {
  const bytes = curatedBytes(chunk);
  return transfer(bytes, [bytes.buffer as ArrayBuffer]);
}

/** Writes one piece of reconciliation.json's details at its offset (the partitions' bytes are shared memory). */
export function writeDetailsChunk(task: DetailsChunkTask): number {
  return writeChunkNow(task);
}
