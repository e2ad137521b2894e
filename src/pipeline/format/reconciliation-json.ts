/**
 * reconciliation.json: head (tolerance and summary), the partitions' detail lines merged in id
 * order, tail. The main thread only plans the merge; pool tasks copy and write the pieces, each
 * at its own file offset.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { compareBytes } from "../columns/bytes.ts";
import { usd } from "../exact.ts";
import type { ReconSummary } from "../reconcile/types.ts";

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
 * partitions). Stretch i is bytes [start[i], end[i]) of partition part[i]; the very first loses its
 * leading comma. `chunks` cuts the stretches into pieces of about `chunkBytes` of output, each
 * written by one task at file offset offsets[k] (relative to the start of the details).
 */
interface DetailsPlan {
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
  /** chunk k = stretches chunks[k] .. chunks[k+1]-1, at offsets[k]; offsets[last] = total bytes */
  chunks: number[];
  offsets: number[];
}

function planDetails(parts: RenderedPart[], chunkBytes = 8 << 20): DetailsPlan {
  const groups = parts.map((p) => p.idOff.length - 1);
  let cap = 1024;
  let part = new Int32Array(cap),
    start = new Float64Array(cap),
    end = new Float64Array(cap);
  let n = 0,
    total = 0;
  const chunks = [0],
    offsets = [0];
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
    if (total - offsets[offsets.length - 1]! >= chunkBytes) {
      chunks.push(n);
      offsets.push(total);
    }
    next[best] = h;
  }
  if (chunks[chunks.length - 1] !== n) {
    chunks.push(n);
    offsets.push(total);
  }
  return { part: part.subarray(0, n), start: start.subarray(0, n), end: end.subarray(0, n), chunks, offsets };
}

/** One piece of the details to write: its stretches (copies) and where they go. */
export interface DetailsChunkTask {
  path: string;
  /** file offset of the piece */
  position: number;
  /** every partition's rendered bytes (shared memory) */
  bytes: Uint8Array[];
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
}

/** The tasks that write the planned details, the first piece at file offset `base`. */
function detailsChunkTasks(path: string, base: number, parts: RenderedPart[], plan: DetailsPlan): DetailsChunkTask[] {
  const tasks: DetailsChunkTask[] = [];
  for (let k = 0; k + 1 < plan.chunks.length; k++) {
    const a = plan.chunks[k]!,
      b = plan.chunks[k + 1]!;
    tasks.push({
      path,
      position: base + plan.offsets[k]!,
      bytes: parts.map((p) => p.bytes),
      part: plan.part.slice(a, b),
      start: plan.start.slice(a, b),
      end: plan.end.slice(a, b),
    });
  }
  return tasks;
}

let chunkBuffer = new Uint8Array(0);

/** Copies a piece's stretches together and writes them at its offset (the file exists). Returns the bytes written. */
export function writeDetailsChunk(task: DetailsChunkTask): number {
  let size = 0;
  for (let i = 0; i < task.part.length; i++) size += task.end[i]! - task.start[i]!;
  if (chunkBuffer.length < size) chunkBuffer = new Uint8Array(Math.max(size, 8 << 20));
  let at = 0;
  for (let i = 0; i < task.part.length; i++) {
    const src = task.bytes[task.part[i]!]!,
      s = task.start[i]!,
      e = task.end[i]!;
    chunkBuffer.set(src.subarray(s, e), at);
    at += e - s;
  }
  const fd = openSync(task.path, "r+");
  try {
    let done = 0;
    while (done < size) done += writeSync(fd, chunkBuffer, done, size - done, task.position + done);
  } finally {
    closeSync(fd);
  }
  return size;
}

/**
 * Writes reconciliation.json: head, the partitions' detail lines in id order, tail. The pieces are
 * written by `write` (pool tasks, in parallel, each at its own offset); the main thread only plans.
 */
export async function writeReconciliation(
  path: string,
  head: string,
  tail: string,
  parts: RenderedPart[],
  write: (task: DetailsChunkTask) => Promise<number> = async (t) => writeDetailsChunk(t),
): Promise<void> {
  const headBytes = encoder.encode(head);
  const plan = planDetails(parts);
  const total = plan.offsets[plan.offsets.length - 1]!;
  const fh = await open(path, "w");
  try {
    await fh.write(headBytes, 0, headBytes.length, 0);
    const tailBytes = encoder.encode(tail);
    await fh.write(tailBytes, 0, tailBytes.length, headBytes.length + total);
    await Promise.all(detailsChunkTasks(path, headBytes.length, parts, plan).map(write));
  } finally {
    await fh.close();
  }
}
