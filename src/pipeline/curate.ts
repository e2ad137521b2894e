/**
 * SPEC 4 rule 5: the curated purchases, sorted by event_time_utc, appsflyer_id, receipt_id
 * (code-unit string order), then file order so the result is total and deterministic.
 */
import { compareAt } from "./columns.ts";
import type { PurchasesTable } from "./load.ts";
import { identity, radixSortBy, radixSortPairs } from "./sort.ts";

/** Curated purchases in output order: rows index the purchases table. */
export interface Curated {
  n: number;
  rows: Uint32Array;
  /** micro-dollars after chargebacks */
  revenue: Float64Array;
  chargeback: Uint8Array;
}

/** Sorts the kept rows (given in file order, with their post-chargeback revenue and flag). */
export function sortCurated(t: PurchasesTable, rows: Uint32Array, revenue: Float64Array, chargeback: Uint8Array): Curated {
  // positions into `rows`; `rows` is file order, so a stable sort keeps ties in file order
  const n = rows.length;
  const keyTime = new Float64Array(n);
  let min = Infinity, max = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = t.time[rows[j]!]!;
    keyTime[j] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let order: Uint32Array;
  /** times in sorted order (ties are found by reading it in order) */
  let sortedTime: ArrayLike<number>;
  if (n > 0 && max - min < 4294967296) {
    // seconds within 136 years of each other: 32-bit keys, carried along the sort
    const keys = new Uint32Array(n);
    for (let j = 0; j < n; j++) keys[j] = keyTime[j]! - min;
    const sorted = radixSortPairs(keys, identity(n));
    order = sorted.values;
    sortedTime = sorted.keys;
  } else {
    order = radixSortBy(identity(n), keyTime);
    sortedTime = Float64Array.from(order, (p) => keyTime[p]!);
  }
  // the same second rarely holds many purchases: order those runs by the strings (insertion sort, in place)
  const { afid, receipt } = t;
  const before = (x: number, y: number) => (compareAt(afid, rows[x]!, afid, rows[y]!) || compareAt(receipt, rows[x]!, receipt, rows[y]!) || x - y) < 0;
  for (let a = 0; a < order.length; ) {
    const k = sortedTime[a]!;
    let b = a + 1;
    while (b < order.length && sortedTime[b] === k) b++;
    if (b - a > 32) {
      const run = Array.from(order.subarray(a, b));
      run.sort((x, y) => (before(x, y) ? -1 : 1));
      order.set(run, a);
    } else {
      for (let x = a + 1; x < b; x++) {
        const v = order[x]!;
        let y = x - 1;
        while (y >= a && before(v, order[y]!)) {
          order[y + 1] = order[y]!;
          y--;
        }
        order[y + 1] = v;
      }
    }
    a = b;
  }
  const out: Curated = {
    n: rows.length,
    rows: new Uint32Array(rows.length),
    revenue: new Float64Array(rows.length),
    chargeback: new Uint8Array(rows.length),
  };
  for (let j = 0; j < order.length; j++) {
    const p = order[j]!;
    out.rows[j] = rows[p]!;
    out.revenue[j] = revenue[p]!;
    out.chargeback[j] = chargeback[p]!;
  }
  return out;
}
