/**
 * SPEC 4 rule 4: every receipt_id on a usable `chargeback` row (any event_name) zeroes the
 * revenue of the kept purchases with that receipt_id; they stay, flagged chargeback=true.
 * An empty receipt_id zeroes nothing; receipts are compared exactly as written. The per-row
 * "charged" flag is computed when the purchases are loaded (load.ts).
 */
import type { PurchasesTable } from "./load.ts";

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
