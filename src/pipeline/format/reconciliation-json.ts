/**
 * reconciliation.json: head (tolerance and summary), the partitions' detail lines merged in id
 * order, tail. The main thread only plans the merge; pool tasks assemble block-aligned pieces of
 * the file and write each at its own offset, past the page cache where it can (direct-io.ts).
 */
import { open } from "node:fs/promises";
import { compareBytes } from "../columns/bytes.ts";
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

/**
 * One reconciliation partition's rendered lines: id group g (in id order) is
 * bytes[runBytes[g], runBytes[g+1]), its id ids[idOff[g], idOff[g+1]).
 */
export interface RenderedPart {
  bytes: Uint8Array;
  runBytes: Float64Array;
  ids: Uint8Array;
  idOff: Uint32Array;
}

/** Compares group g of partition a with group h of partition b by id. */
function compareGroups(a: RenderedPart, g: number, b: RenderedPart, h: number): number {
  return compareBytes(a.ids, a.idOff[g]!, a.idOff[g + 1]!, b.ids, b.idOff[h]!, b.idOff[h + 1]!);
}

/**
 * Where every stretch of detail lines goes: stretches of consecutive id groups of one partition,
 * in output order (a k-way merge of the partitions' id-sorted groups; ids never repeat across
 * partitions). Stretch i is bytes [start[i], end[i]) of partition part[i], at offset at[i] of the
 * details; the very first loses its leading comma.
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
  const groups = parts.map((p) => p.idOff.length - 1);
  let cap = 1024;
  let part = new Int32Array(cap),
    start = new Float64Array(cap),
    end = new Float64Array(cap);
  let n = 0,
    total = 0;
  const next = new Int32Array(parts.length); // next group per partition
  for (;;) {
    // the partition whose next id is smallest, and the runner-up
    let best = -1,
      second = -1;
    for (let j = 0; j < parts.length; j++) {
      if (next[j]! >= groups[j]!) continue;
      if (best === -1 || compareGroups(parts[j]!, next[j]!, parts[best]!, next[best]!) < 0) {
        second = best;
        best = j;
      } else if (second === -1 || compareGroups(parts[j]!, next[j]!, parts[second]!, next[second]!) < 0) second = j;
    }
    if (best === -1) break;
    const d = parts[best]!,
      g = next[best]!;
    // the stretch of its ids below the runner-up's next id goes at once
    let h = g + 1;
    if (second === -1) h = groups[best]!;
    else {
      const o = parts[second]!,
        og = next[second]!;
      while (h < groups[best]! && compareGroups(d, h, o, og) < 0) h++;
    }
    if (n === cap) {
      cap *= 2;
      const p2 = new Int32Array(cap),
        s2 = new Float64Array(cap),
        e2 = new Float64Array(cap);
      p2.set(part);
      s2.set(start);
      e2.set(end);
      part = p2;
      start = s2;
      end = e2;
    }
    part[n] = best;
    start[n] = d.runBytes[g]! + (n === 0 ? 1 : 0); // ",\n    " -> "\n    " on the first line
    end[n] = d.runBytes[h]!;
    total += end[n]! - start[n]!;
    n++;
    next[best] = h;
  }
  const at = new Float64Array(n);
  for (let i = 1; i < n; i++) at[i] = at[i - 1]! + end[i - 1]! - start[i - 1]!;
  return { part: part.subarray(0, n), start: start.subarray(0, n), end: end.subarray(0, n), at, total };
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
