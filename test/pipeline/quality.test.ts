/** qualityReport: quality.json lists all four files with rows, skipped and reasons, zeros included. */
import { expect, test } from "bun:test";
import { CONFIRMED_HEADER, csv, filePool, PURCHASES_HEADER, run, SESSIONS_HEADER } from "./helpers.ts";

const pool = filePool();

test("per file and reason; a skipped row takes no part in anything", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success",
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success", // duplicate: not a quality issue
      "u2,purchase,2025-01-10T10:00:00Z,4.99.1,A,r2,success", // bad_number
      "u3,purchase,10/01/2025,4.99,A,r3,success", // bad_time
    ),
    "confirmed_purchases.csv": csv(
      CONFIRMED_HEADER,
      "u1,2025-01-10T10:00:00Z,4.99,r1",
      "u2,2025-01-10T10:00:00Z,4.99,r2",
      "u3,2025-01-10T10:00:00Z,abc,r3",
    ),
    "sessions.csv": csv(SESSIONS_HEADER, "u1,2025-01-09T10:00:00Z,A", "u2,,A"),
  });
  expect(o.quality).toEqual({
    files: {
      "purchases_raw.csv": { rows: 4, skipped: 2, reasons: { bad_time: 1, bad_number: 1 } },
      "confirmed_purchases.csv": { rows: 3, skipped: 1, reasons: { bad_time: 0, bad_number: 1 } },
      "costs_daily.csv": { rows: 1, skipped: 0, reasons: { bad_time: 0, bad_number: 0 } },
      "sessions.csv": { rows: 2, skipped: 1, reasons: { bad_time: 1, bad_number: 0 } },
    },
  });
  // u2's purchase was skipped, so its confirmation is confirmed_only; u3's confirmation was skipped entirely
  expect(o.reconciliation.summary).toMatchObject({ matched: 1, af_only: 0, confirmed_only: 1 });
});
