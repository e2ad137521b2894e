/**
 * SPEC 4 rule 4: every receipt_id on a usable `chargeback` row (any event_name) zeroes the
 * revenue of the kept purchases with that receipt_id; they stay, flagged chargeback=true.
 * An empty receipt_id zeroes nothing.
 */
import { STATUS_CHARGEBACK, type PurchasesTable } from "./load.ts";

/** One flag per receipt dictionary code: 1 when that receipt was charged back. */
export function chargebackReceipts(t: PurchasesTable): Uint8Array {
  const charged = new Uint8Array(t.receiptDict.length);
  for (let i = 0; i < t.n; i++) {
    if (t.flags[i]! & STATUS_CHARGEBACK) charged[t.receipt[i]!] = 1;
  }
  const empty = t.receiptDict.indexOf("");
  if (empty !== -1) charged[empty] = 0;
  return charged;
}

/** Revenue after chargebacks (micro-dollars) and the chargeback flag, aligned with `rows`. */
export function applyChargebacks(
  t: PurchasesTable,
  rows: Uint32Array,
  charged: Uint8Array,
): { revenue: Float64Array; chargeback: Uint8Array; count: number } {
  const revenue = new Float64Array(rows.length);
  const chargeback = new Uint8Array(rows.length);
  let count = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    if (charged[t.receipt[i]!]) {
      chargeback[j] = 1;
      count++;
    } else revenue[j] = t.revenue[i]!;
  }
  return { revenue, chargeback, count };
}
