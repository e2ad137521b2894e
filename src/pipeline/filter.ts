/** SPEC 4 rule 2: keep rows with status `success`, event_name `purchase` and revenue > 0. */
import { EVENT_PURCHASE, type PurchasesTable, STATUS_SUCCESS } from "./tables.ts";

const WANTED = STATUS_SUCCESS | EVENT_PURCHASE;

/** Row indices (ascending, i.e. file order) of the purchases that pass rule 2. */
export function selectPurchases(t: PurchasesTable): Uint32Array {
  const out = new Uint32Array(t.n);
  let k = 0;
  for (let i = 0; i < t.n; i++) {
    // revenue > 0 is false for NaN too (an empty chargeback revenue)
    if ((t.flags[i]! & WANTED) === WANTED && t.revenue[i]! > 0) out[k++] = i;
  }
  return out.slice(0, k);
}
