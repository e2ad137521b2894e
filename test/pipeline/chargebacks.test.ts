/** chargebackReceipts / applyChargebacks, SPEC 4 rule 4 and 4.1. */
import { expect, test } from "bun:test";
import { csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

test("charged-back receipts zero revenue and set the flag; the rows stay", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success", // r1 charged back below (empty revenue allowed) -> 0, true
      "u2,purchase,2025-01-10T10:01:00Z,9.99,A,r2,success", // r2 charged back by a row with a revenue and another event_name -> 0, true
      "u3,purchase,2025-01-10T10:02:00Z,2.00,A,r3,success", // r3 only on a skipped chargeback row (bad time) -> untouched
      "u4,purchase,2025-01-10T10:03:00Z,3.00,A,,success", // empty receipt: the empty-receipt chargeback zeroes nothing
      "u5,purchase,2025-01-10T10:04:00Z,1.00,A,R1,success", // receipts compared exactly: R1 != r1 -> untouched
      "u1,refund,2025-01-11T09:00:00Z,,A,r1,chargeback",
      "u2,purchase,2025-01-11T09:00:00Z,9.99,A,r2, ChargeBack ",
      "u3,refund,not-a-time,,A,r3,chargeback",
      "u4,refund,2025-01-11T09:00:00Z,,A,,chargeback",
      "u6,purchase,2025-01-10T10:05:00Z,7.00,A,r1,success", // a second purchase with receipt r1 is zeroed too
    ),
  });
  const byUser = Object.fromEntries(o.curatedRows.map((r) => [r[0], [r[3], r[6]]]));
  expect(byUser).toEqual({
    u1: ["0", "true"],
    u2: ["0", "true"],
    u3: ["2", "false"],
    u4: ["3", "false"],
    u5: ["1", "false"],
    u6: ["0", "true"],
  });
  expect(o.result.summary.chargebacks).toBe(3);
  expect(o.quality.files["purchases_raw.csv"]!.reasons.bad_time).toBe(1);
  // chargeback rows are never curated, so the latest curated day stays 2025-01-10 and D-1 = 2025-01-09
  expect(o.result.summary.d1).toBe("2025-01-09");
});
