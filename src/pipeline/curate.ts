/**
 * SPEC 4 rule 5: the curated purchases, sorted by event_time_utc, appsflyer_id, receipt_id
 * (code-unit string order), then file order so the result is total and deterministic.
 */
import { dictRanks } from "./columns.ts";
import type { PurchasesTable } from "./load.ts";

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
  const afRank = dictRanks(t.afidDict);
  const receiptRank = dictRanks(t.receiptDict);
  const { time, afid, receipt } = t;
  const order = new Uint32Array(rows.length);
  for (let j = 0; j < order.length; j++) order[j] = j;
  // positions in `rows` are file order, so the last key keeps equal rows as they came
  order.sort((x, y) => {
    const a = rows[x]!, b = rows[y]!;
    return (
      time[a]! - time[b]! ||
      afRank[afid[a]!]! - afRank[afid[b]!]! ||
      receiptRank[receipt[a]!]! - receiptRank[receipt[b]!]! ||
      x - y
    );
  });
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
