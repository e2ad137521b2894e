/**
 * reconciliation.json: head (tolerance and summary), the partitions' detail lines one after the
 * other (they are id ranges in order), tail. Pool tasks assemble block-aligned pieces of the file
 * and write each at its own offset, past the page cache where it can (direct-io.ts).
 */
import { open } from "node:fs/promises";
import { usd } from "../exact.ts";
import type { ReconSummary } from "../reconcile/types.ts";
import { alignedScratch, BLOCK, writeAt } from "./direct-io.ts";

const encoder = new TextEncoder();

/** The reconciliation summary object, keys in SPEC order, USD rounded to cents. */
export function reconciliationSummary(r: ReconSummary): Record<string, number> {
  return {
    matched: r.matched,
    af_only: r.afOnly,
    confirmed_only: r.confirmedOnly,
    matched_revenue_usd: usd(r.matchedMicro),
    af_only_revenue_usd: usd(r.afOnlyMicro),
    confirmed_only_revenue_usd: usd(r.confirmedOnlyMicro),
    revenue_mismatches: r.revenueMismatches,
  };
}

/** reconciliation.json up to the opening of the details array (details are streamed after it). */
export function reconciliationHead(toleranceMinutes: number, r: ReconSummary): string {
  const summary = JSON.stringify(reconciliationSummary(r), null, 2).replace(/\n/g, "\n  ");
  return `{\n  "tolerance_minutes": ${JSON.stringify(toleranceMinutes)},\n  "summary": ${summary},\n  "details": [`;
}

/** What closes reconciliation.json after `details` detail lines. */
export function reconciliationTail(details: number): string {
  return details === 0 ? "]\n}\n" : "\n  ]\n}\n";
}

/** One reconciliation partition's rendered detail lines (each starting with ",\n    "), in id order. */
export interface RenderedPart {
  bytes: Uint8Array;
}

/**
 * Where the detail lines go: the partitions' bytes one after the other (partitions are id ranges
 * in order, reconcile/partition.ts). Stretch i is bytes [start[i], end[i]) of partition part[i],
 * at offset at[i] of the details; the very first loses its leading comma.
 */
interface DetailsPlan {
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
  at: Float64Array;
  /** bytes of all details */
  total: number;
}

function planDetails(parts: RenderedPart[]): DetailsPlan {
  const used = parts.flatMap((p, k) => (p.bytes.length > 0 ? [k] : []));
  const n = used.length;
  const plan = {
    part: Int32Array.from(used),
    start: new Float64Array(n),
    end: new Float64Array(n),
    at: new Float64Array(n),
    total: 0,
  };
  for (let i = 0; i < n; i++) {
    plan.start[i] = i === 0 ? 1 : 0; // ",\n    " -> "\n    " on the first line
    plan.end[i] = parts[used[i]!]!.bytes.length;
    plan.at[i] = plan.total;
    plan.total += plan.end[i]! - plan.start[i]!;
  }
  return plan;
}

/**
 * One block-aligned piece of reconciliation.json to write: file bytes [position, position + length),
 * taken from the head, the stretches that overlap it and the tail.
 */
export interface DetailsChunkTask {
  path: string;
  /** file offset of the piece (a multiple of BLOCK) and its length */
  position: number;
  length: number;
  head: Uint8Array;
  tail: Uint8Array;
  /** bytes of all details (the tail starts at head.length + detailsBytes) */
  detailsBytes: number;
  /** every partition's rendered bytes (shared memory) */
  bytes: Uint8Array[];
  /** the stretches overlapping the piece: partition, byte range, offset in the details */
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
  at: Float64Array;
}

/** First stretch that ends after details offset x (binary search over the stretch offsets). */
function stretchAt(plan: DetailsPlan, x: number): number {
  let lo = 0,
    hi = plan.at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (plan.at[mid]! + plan.end[mid]! - plan.start[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The tasks that write the whole file in pieces of `chunkBytes` (a multiple of BLOCK). */
function detailsChunkTasks(
  path: string,
  head: Uint8Array,
  tail: Uint8Array,
  parts: RenderedPart[],
  plan: DetailsPlan,
  chunkBytes: number,
): DetailsChunkTask[] {
  const size = head.length + plan.total + tail.length;
  const tasks: DetailsChunkTask[] = [];
  for (let position = 0; position < size; position += chunkBytes) {
    const length = Math.min(chunkBytes, size - position);
    const a = stretchAt(plan, position - head.length),
      b = stretchAt(plan, position + length - head.length - 1) + 1;
    const take = <A extends Int32Array | Float64Array>(x: A) => x.slice(a, Math.min(b, x.length)) as A;
    tasks.push({
      path,
      position,
      length,
      head,
      tail,
      detailsBytes: plan.total,
      bytes: parts.map((p) => p.bytes),
      part: take(plan.part),
      start: take(plan.start),
      end: take(plan.end),
      at: take(plan.at),
    });
  }
  return tasks;
}

/** Copies src[from, to), placed at file offset `place`, into buf where it overlaps the piece [pos, pos + buf.length). */
function copyOverlap(buf: Uint8Array, pos: number, src: Uint8Array, from: number, to: number, place: number): void {
  const lo = Math.max(pos, place),
    hi = Math.min(pos + buf.length, place + to - from);
  if (lo < hi) buf.set(src.subarray(from + lo - place, from + hi - place), lo - pos);
}

/** Assembles one piece from the head, its stretches and the tail, and writes it at its offset (the file exists). */
export function writeDetailsChunk(task: DetailsChunkTask): number {
  const { position, length, head } = task;
  const buf = alignedScratch("details", length).subarray(0, length);
  copyOverlap(buf, position, head, 0, head.length, 0);
  for (let i = 0; i < task.part.length; i++) {
    const src = task.bytes[task.part[i]!]!;
    copyOverlap(buf, position, src, task.start[i]!, task.end[i]!, head.length + task.at[i]!);
  }
  copyOverlap(buf, position, task.tail, 0, task.tail.length, head.length + task.detailsBytes);
  writeAt(task.path, position, buf, length);
  return length;
}

/**
 * Writes reconciliation.json: head, the partitions' detail lines in id order, tail. The file is
 * cut into block-aligned pieces of `chunkBytes`, each assembled and written by `write` (pool
 * tasks, in parallel); the main thread only plans.
 */
export async function writeReconciliation(
  path: string,
  head: string,
  tail: string,
  parts: RenderedPart[],
  write: (task: DetailsChunkTask) => Promise<number> = async (t) => writeDetailsChunk(t),
  chunkBytes = 8 << 20,
): Promise<void> {
  if (chunkBytes % BLOCK !== 0) throw new Error(`chunkBytes must be a multiple of ${BLOCK}`);
  const headBytes = encoder.encode(head),
    tailBytes = encoder.encode(tail);
  const plan = planDetails(parts);
  const fh = await open(path, "w");
  try {
    await fh.truncate(headBytes.length + plan.total + tailBytes.length);
  } finally {
    await fh.close();
  }
  await Promise.all(detailsChunkTasks(path, headBytes, tailBytes, parts, plan, chunkBytes).map(write));
}
