/**
 * SPEC 4 rule 5: the curated purchases, sorted by event_time_utc, appsflyer_id, receipt_id
 * (code-unit string order), then file order so the result is total and deterministic.
 */
import { compareAt } from "./columns/bytes.ts";
import { insertionSort } from "./sort/insertion.ts";
import { identity, radixSortBy, radixSortPairs } from "./sort/radix.ts";
import type { PurchasesTable } from "./tables.ts";

/** Curated purchases in output order: rows index the purchases table. */
export interface Curated {
  n: number;
  rows: Uint32Array;
  /** micro-dollars after chargebacks */
  revenue: Float64Array;
  chargeback: Uint8Array;
}

/**
 * Big-endian words of a string's first 8 bytes (zero padded): ordering by them agrees with
 * code-unit order wherever they differ (a string that ends is a prefix of the other); equal words
 * leave the order to the full comparison. Lead bytes 0xEE..0xF4 do not order by byte value in
 * UTF-16 terms: with any of those in the first 8 bytes the words are not used (all zero).
 */
function prefixWords(t: PurchasesTable, rows: Uint32Array): { hi: Uint32Array; lo: Uint32Array } {
  const n = rows.length;
  const hi = new Uint32Array(n),
    lo = new Uint32Array(n);
  const { bytes, offsets } = t.afid;
  let usable = true;
  for (let j = 0; j < n && usable; j++) {
    const r = rows[j]!,
      s = offsets[r]!,
      e = offsets[r + 1]!;
    let h = 0,
      l = 0;
    for (let k = 0; k < 8; k++) {
      const b = s + k < e ? bytes[s + k]! : 0;
      if (b >= 0xee) usable = false;
      if (k < 4) h = (h << 8) | b;
      else l = (l << 8) | b;
    }
    hi[j] = h >>> 0;
    lo[j] = l >>> 0;
  }
  if (!usable) {
    hi.fill(0);
    lo.fill(0);
  }
  return { hi, lo };
}

/** Does sorted position x go after y? (same second: prefix words, full appsflyer_id, receipt_id, file order) */
function after(
  t: PurchasesTable,
  rows: Uint32Array,
  order: Uint32Array,
  hi: Uint32Array,
  lo: Uint32Array,
  x: number,
  y: number,
): boolean {
  if (hi[x] !== hi[y]) return hi[x]! > hi[y]!;
  if (lo[x] !== lo[y]) return lo[x]! > lo[y]!;
  const rx = rows[order[x]!]!,
    ry = rows[order[y]!]!;
  return (compareAt(t.afid, rx, t.afid, ry) || compareAt(t.receipt, rx, t.receipt, ry) || order[x]! - order[y]!) > 0;
}

/** Orders the run [a, b) of equal times (order, hi, lo move together). */
function sortTies(
  t: PurchasesTable,
  rows: Uint32Array,
  order: Uint32Array,
  hi: Uint32Array,
  lo: Uint32Array,
  a: number,
  b: number,
): void {
  if (b - a > 64) {
    const run = Array.from({ length: b - a }, (_, i) => a + i);
    run.sort((x, y) => (after(t, rows, order, hi, lo, x, y) ? 1 : -1));
    const o = run.map((x) => order[x]!),
      h = run.map((x) => hi[x]!),
      l = run.map((x) => lo[x]!);
    order.set(o, a);
    hi.set(h, a);
    lo.set(l, a);
    return;
  }
  insertionSort(
    a,
    b,
    (x, y) => after(t, rows, order, hi, lo, x, y),
    (x, y) => {
      swapAt(order, x, y);
      swapAt(hi, x, y);
      swapAt(lo, x, y);
    },
  );
}

function swapAt(a: Uint32Array, x: number, y: number): void {
  const v = a[x]!;
  a[x] = a[y]!;
  a[y] = v;
}

/** Sorts the kept rows (given in file order, with their post-chargeback revenue and flag). */
export function sortCurated(
  t: PurchasesTable,
  rows: Uint32Array,
  revenue: Float64Array,
  chargeback: Uint8Array,
): Curated {
  // positions into `rows`; `rows` is file order, so a stable sort keeps ties in file order
  const n = rows.length;
  const keyTime = new Float64Array(n);
  let min = Infinity,
    max = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = t.time[rows[j]!]!;
    keyTime[j] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const words = prefixWords(t, rows);
  let order: Uint32Array;
  /** times and id prefix words in sorted order (ties are resolved reading them in order) */
  let sortedTime: ArrayLike<number>, hi: Uint32Array, lo: Uint32Array;
  if (n > 0 && max - min < 4294967296) {
    // seconds within 136 years of each other: 32-bit keys, carried along the sort with the words
    const keys = new Uint32Array(n);
    for (let j = 0; j < n; j++) keys[j] = keyTime[j]! - min;
    const sorted = radixSortPairs(keys, identity(n), [words.hi, words.lo]);
    order = sorted.values;
    sortedTime = sorted.keys;
    [hi, lo] = sorted.payload as [Uint32Array, Uint32Array];
  } else {
    order = radixSortBy(identity(n), keyTime);
    sortedTime = Float64Array.from(order, (p) => keyTime[p]!);
    hi = Uint32Array.from(order, (p) => words.hi[p]!);
    lo = Uint32Array.from(order, (p) => words.lo[p]!);
  }
  // several purchases in one second: order them by appsflyer_id (prefix words first, the full bytes
  // only when those are equal), receipt_id, file order; insertion sort in place (runs are short)
  for (let a = 0; a < n; ) {
    const k = sortedTime[a]!;
    let b = a + 1;
    while (b < n && sortedTime[b] === k) b++;
    if (b - a > 1) sortTies(t, rows, order, hi, lo, a, b);
    a = b;
  }
  // rows, revenue and flags in output order: scattered from file order (random writes are cheaper than random reads)
  const where = new Uint32Array(n);
  for (let j = 0; j < n; j++) where[order[j]!] = j;
  const out: Curated = {
    n,
    rows: new Uint32Array(n),
    revenue: new Float64Array(n),
    chargeback: new Uint8Array(n),
  };
  for (let p = 0; p < n; p++) out.rows[where[p]!] = rows[p]!;
  for (let p = 0; p < n; p++) out.revenue[where[p]!] = revenue[p]!;
  for (let p = 0; p < n; p++) out.chargeback[where[p]!] = chargeback[p]!;
  return out;
}

/** AF revenue after chargebacks by purchases row (shared, read by the reconciliation partitions). */
export function afRevenueByRow(p: PurchasesTable, curated: Curated): Float64Array {
  const afRevenue = new Float64Array(new SharedArrayBuffer(Math.max(1, p.n) * 8), 0, p.n);
  for (let j = 0; j < curated.n; j++) afRevenue[curated.rows[j]!] = curated.revenue[j]!;
  return afRevenue;
}
