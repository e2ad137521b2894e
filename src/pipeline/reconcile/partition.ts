/**
 * Rows are partitioned by ranges of appsflyer_id (code-unit order): every id lives in exactly one
 * partition and every id of partition k sorts before every id of partition k + 1, so the
 * partitions match independently (on the pool) and reconciliation.json is their details one
 * partition after the other, with no merge (a k-way merge of hash partitions took ~7 s of the main
 * thread at 10M purchases, traced).
 *
 * The ranges are cut on a number made of an id's first bytes (RangeKeys), at quantiles of a
 * sample of the rows, so partitions come out about equal.
 */
import { BYTE_WEIGHT, type BytesColumn } from "../columns/bytes.ts";
import type { Curated } from "../curate.ts";
import type { ConfirmedTable, PurchasesTable } from "../tables.ts";
import type { PartitionTask } from "./types.ts";

/** Bytes a range key reads after the common prefix: 257^6 < 2^53, so the key is an exact number. */
const KEY_BYTES = 6;
/** Sampled rows per partition to place its boundaries. */
const SAMPLE_PER_PART = 256;

/**
 * A number per id that never decreases along code-unit order: ids that all start with `prefix`
 * (the common prefix of the sampled ids) are keyed on their next KEY_BYTES weighted bytes in base
 * 257 (0 past the end: a shorter id sorts first); an id before the prefix keys -Infinity, after
 * it +Infinity. Equal keys land in the same partition, so ids never straddle a boundary.
 */
class RangeKeys {
  constructor(private readonly prefix: Uint8Array) {}
  of(col: BytesColumn, row: number): number {
    const bytes = col.bytes,
      s = col.offsets[row]!,
      e = col.offsets[row + 1]!;
    const prefix = this.prefix;
    for (let i = 0; i < prefix.length; i++) {
      if (s + i >= e) return -Infinity; // a proper prefix of the prefix sorts first
      const b = bytes[s + i]!,
        p = prefix[i]!;
      if (b !== p) return BYTE_WEIGHT[b]! < BYTE_WEIGHT[p]! ? -Infinity : Infinity;
    }
    let key = 0;
    for (let i = 0, at = s + prefix.length; i < KEY_BYTES; i++, at++)
      key = key * 257 + (at < e ? BYTE_WEIGHT[bytes[at]!]! : 0);
    return key;
  }
}

/** Longest prefix all the sampled ids share (rows `rows` of col). */
function commonPrefix(col: BytesColumn, rows: number[]): Uint8Array {
  if (rows.length === 0) return new Uint8Array(0);
  const first = rows[0]!,
    fs = col.offsets[first]!;
  let n = col.offsets[first + 1]! - fs;
  for (const r of rows) {
    const s = col.offsets[r]!,
      len = Math.min(n, col.offsets[r + 1]! - s);
    let i = 0;
    while (i < len && col.bytes[s + i] === col.bytes[fs + i]) i++;
    n = i;
  }
  return col.bytes.slice(fs, fs + n);
}

/** Every step-th of `count` row positions, through `rowAt`. */
function sample(count: number, want: number, rowAt: (i: number) => number): number[] {
  const step = Math.max(1, Math.floor(count / Math.max(1, want)));
  const rows: number[] = [];
  for (let i = 0; i < count; i += step) rows.push(rowAt(i));
  return rows;
}

/** Partition of a key: the number of boundaries at or below it (boundaries ascending). */
function partOf(boundaries: Float64Array, key: number): number {
  let lo = 0,
    hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (boundaries[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Splits curated and confirmed rows into at most `parts` id ranges, in id order (fewer when the
 * sampled keys repeat). `afRevenue` given: the partitions render their detail lines too.
 */
export function partitionByAfid(
  p: PurchasesTable,
  curated: Curated,
  c: ConfirmedTable,
  parts: number,
  toleranceSec: number,
  afRevenue?: Float64Array,
): PartitionTask[] {
  // file order: the worker's stable sorts keep it as the last tie-break (a scan over the kept
  // rows, not a sort of them: at 10M the sort took a second)
  const kept = new Uint8Array(p.n);
  for (let j = 0; j < curated.n; j++) kept[curated.rows[j]!] = 1;
  const afRows = new Uint32Array(curated.n);
  for (let r = 0, j = 0; r < kept.length; r++) if (kept[r] === 1) afRows[j++] = r;
  const want = parts * SAMPLE_PER_PART;
  const afSample = sample(afRows.length, want, (i) => afRows[i]!);
  const confSample = sample(c.n, want, (i) => i);
  // one prefix for both tables: the shorter of the two samples' common prefixes, cut where they differ
  const a = commonPrefix(p.afid, afSample),
    b = commonPrefix(c.afid, confSample);
  let shared = 0;
  while (shared < a.length && shared < b.length && a[shared] === b[shared]) shared++;
  const keys = new RangeKeys(a.slice(0, shared));
  const sampled = Float64Array.from([
    ...afSample.map((r) => keys.of(p.afid, r)),
    ...confSample.map((r) => keys.of(c.afid, r)),
  ]).sort();
  const cuts: number[] = [];
  for (let k = 1; k < parts && sampled.length > 0; k++) {
    const cut = sampled[Math.floor((k * sampled.length) / parts)]!;
    if (cut > (cuts[cuts.length - 1] ?? -Infinity)) cuts.push(cut);
  }
  const boundaries = Float64Array.from(cuts);
  const count = boundaries.length + 1;

  const afPart = new Uint16Array(afRows.length),
    confPart = new Uint16Array(c.n);
  const afCount = new Uint32Array(count),
    confCount = new Uint32Array(count);
  for (let j = 0; j < afRows.length; j++) {
    afPart[j] = partOf(boundaries, keys.of(p.afid, afRows[j]!));
    afCount[afPart[j]!]!++;
  }
  for (let i = 0; i < c.n; i++) {
    confPart[i] = partOf(boundaries, keys.of(c.afid, i));
    confCount[confPart[i]!]!++;
  }
  const tasks: PartitionTask[] = [];
  for (let k = 0; k < count; k++) {
    tasks.push({
      af: {
        ids: p.afid,
        hash: p.afidHash,
        time: p.time,
        rows: new Uint32Array(afCount[k]!),
        receipt: p.receipt,
        revenue: afRevenue,
      },
      conf: {
        ids: c.afid,
        hash: c.afidHash,
        time: c.time,
        rows: new Uint32Array(confCount[k]!),
        receipt: c.receipt,
        revenue: c.revenue,
      },
      toleranceSec,
      render: afRevenue !== undefined,
    });
  }
  const fill = new Uint32Array(count);
  for (let j = 0; j < afRows.length; j++) {
    const k = afPart[j]!;
    tasks[k]!.af.rows[fill[k]!++] = afRows[j]!;
  }
  fill.fill(0);
  for (let i = 0; i < c.n; i++) {
    const k = confPart[i]!;
    tasks[k]!.conf.rows[fill[k]!++] = i;
  }
  return tasks;
}
