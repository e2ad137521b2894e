/**
 * SPEC 4 rule 4: every receipt_id on a usable `chargeback` row (any event_name) zeroes the
 * revenue of the kept purchases with that receipt_id; they stay, flagged chargeback=true.
 * An empty receipt_id zeroes nothing; receipts are compared exactly as written. The row logic
 * collects the chargeback receipts while reading (read/sinks/purchases.ts); chargedRows flags the
 * rows when the purchases table is merged, applyChargebacks applies the flags to the kept rows.
 */
import { ByteDict } from "./byte-dict.ts";
import { type BytesColumn, hashBytes } from "./columns/bytes.ts";
import { shared } from "./columns/memory.ts";
import type { PurchasesTable } from "./tables.ts";

/** Per row: 1 when its receipt is one of the chargeback receipts (rule 4; empty receipts never are). */
export function chargedRows(receipt: BytesColumn, receiptHash: Int32Array, chargebacks: BytesColumn[]): Uint8Array {
  const n = receiptHash.length;
  const out = shared(Uint8Array, n);
  const set = new ByteDict();
  for (const c of chargebacks) {
    for (let i = 0; i + 1 < c.offsets.length; i++) {
      const s = c.offsets[i]!,
        e = c.offsets[i + 1]!;
      const h = hashBytes(c.bytes, s, e);
      if (set.find(c.bytes, s, e, h) < 0) set.add(c.bytes, s, e, h, 1);
    }
  }
  if (set.size === 0) return out;
  const { bytes, offsets } = receipt;
  for (let i = 0; i < n; i++) if (set.find(bytes, offsets[i]!, offsets[i + 1]!, receiptHash[i]!) >= 0) out[i] = 1;
  return out;
}

/** Revenue after chargebacks (micro-dollars) and the chargeback flag, aligned with `rows`. */
export function applyChargebacks(
  t: PurchasesTable,
  rows: Uint32Array,
): { revenue: Float64Array; chargeback: Uint8Array; count: number } {
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
