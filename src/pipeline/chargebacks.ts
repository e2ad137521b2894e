/**
 * SPEC 4 rule 4: every receipt_id on a usable `chargeback` row (any event_name) zeroes the
 * revenue of the kept purchases with that receipt_id; they stay, flagged chargeback=true.
 * An empty receipt_id zeroes nothing; receipts are compared exactly as written.
 */
import { strAt, type StringColumn } from "./columns.ts";
import type { PurchasesTable } from "./load.ts";

/**
 * Per row: 1 when its receipt is in `chargebackReceipts` (the receipts of the usable chargeback
 * rows, empty ones excluded). Runs in the load worker, where the receipt column is at hand.
 */
export function chargedRows(receipts: StringColumn, chargebackReceipts: ReadonlySet<string>): Uint8Array {
  const n = receipts.offsets.length - 1;
  const out = new Uint8Array(n);
  if (chargebackReceipts.size === 0) return out;
  for (let i = 0; i < n; i++) if (chargebackReceipts.has(strAt(receipts, i))) out[i] = 1;
  return out;
}

/** Revenue after chargebacks (micro-dollars) and the chargeback flag, aligned with `rows`. */
export function applyChargebacks(t: PurchasesTable, rows: Uint32Array): { revenue: Float64Array; chargeback: Uint8Array; count: number } {
  const revenue = new Float64Array(rows.length);
  const chargeback = new Uint8Array(rows.length);
  let count = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    if (t.charged[i]) {
      chargeback[j] = 1;
      count++;
    } else revenue[j] = t.revenue[i]!;
  }
  return { revenue, chargeback, count };
}
