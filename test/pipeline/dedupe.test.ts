/** dedupeFirst, SPEC 4 rule 3: key appsflyer_id|event_time_utc|event_name|revenue_usd (normalised), first in file order wins. */
import { expect, test } from "bun:test";
import { csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

test("duplicates on the normalised key keep the first row in file order", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,first,success", // kept
      'u1,PURCHASE,2025-01-10 10:00:00.700,"4,990",B,second,success', // same key once normalised (time truncated, 4,990 = 4.99): dropped
      "u1,purchase,2025-01-10T12:00:00+02:00,4.99,C,third,success", // 12:00+02:00 = 10:00Z: same key, dropped
      "u1,purchase,2025-01-10T10:00:01Z,4.99,D,other-time,success", // one second later: different key, kept
      "u1,purchase,2025-01-10T10:00:00Z,5.00,E,other-revenue,success", // different revenue: kept
      "U1,purchase,2025-01-10T10:00:00Z,4.99,F,other-id,success", // ids compared exactly (U1 != u1): kept
      "u1,purchase,2025-01-10T10:00:00Z,4.99,G,failed-first,failed", // filtered before dedupe, so it cannot shadow anything
    ),
  });
  expect(o.curatedRows.map((r) => r[5]).sort()).toEqual(["first", "other-id", "other-revenue", "other-time"]);
  expect(o.result.summary.duplicates).toBe(2);
  // the surviving row carries its own campaign: A (from the first row), not B or C
  expect(o.curatedRows.find((r) => r[5] === "first")![4]).toBe("A");
});
