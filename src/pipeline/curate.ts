/**
 * SPEC 4 rule 5: the curated purchases, sorted by event_time_utc, appsflyer_id, receipt_id
 * (code-unit string order), then file order so the result is total and deterministic.
 */
import { compareAt } from "./columns.ts";
import type { PurchasesTable } from "./load.ts";
import { radixSortBy } from "./sort.ts";

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
  const keyTime = new Float64Array(rows.length);
  for (let j = 0; j < rows.length; j++) keyTime[j] = t.time[rows[j]!]!;
  const order = radixSortBy(Uint32Array.from(rows.keys()), keyTime);
  // the same second rarely holds many purchases: order those runs by the strings
  for (let a = 0; a < order.length; ) {
    let b = a + 1;
    while (b < order.length && keyTime[order[b]!] === keyTime[order[a]!]) b++;
    if (b - a > 1) {
      const run = Array.from(order.subarray(a, b));
      run.sort(
        (x, y) => compareAt(t.afid, rows[x]!, t.afid, rows[y]!) || compareAt(t.receipt, rows[x]!, t.receipt, rows[y]!) || x - y,
      );
      order.set(run, a);
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
