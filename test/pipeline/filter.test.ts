/** selectPurchases, SPEC 4 rule 2: keep status success, event_name purchase, revenue > 0. */
import { expect, test } from "bun:test";
import { csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

test("only success + purchase + revenue > 0 rows are curated; status and event_name trimmed, any case", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success", // kept
      "u2, Purchase ,2025-01-10T10:01:00Z,1.50,A,r2, SUCCESS ", // kept: compared trimmed, case-insensitive
      "u3,purchase,2025-01-10T10:02:00Z,4.99,A,r3,failed", // dropped: status
      "u4,level_up,2025-01-10T10:03:00Z,4.99,A,r4,success", // dropped: event_name
      "u5,purchase,2025-01-10T10:04:00Z,0,A,r5,success", // dropped: revenue 0
      "u6,purchase,2025-01-10T10:05:00Z,-1,A,r6,success", // dropped: revenue < 0
      'u7,purchase,2025-01-10T10:06:00Z,"0,01",A,r7,success', // kept: 0.01 > 0
    ),
  });
  expect(o.curatedRows.map((r) => r[0])).toEqual(["u1", "u2", "u7"]);
  // D-1 = 2025-01-09 (as-of = latest curated day 2025-01-10); rule 2 revenue on 2025-01-10: 4.99 + 1.50 + 0.01 = 6.50
  expect(o.result.summary.curated).toBe(3);
  expect(o.quality.files["purchases_raw.csv"]).toEqual({
    rows: 7,
    skipped: 0,
    reasons: { bad_time: 0, bad_number: 0 },
  });
});
