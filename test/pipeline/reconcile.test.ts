/** matchPartition and whole runs, SPEC 4 rule 6 and 4.1 reconciliation readings. */
import { describe, expect, test } from "bun:test";
import { bytesColumn, hashString } from "../../src/pipeline/columns/bytes.ts";
import { matchPartition } from "../../src/pipeline/reconcile/match.ts";
import { MATCHED, type PartitionTask } from "../../src/pipeline/reconcile/types.ts";
import { CONFIRMED_HEADER, csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

/** A partition from [appsflyer_id, time] rows; row index = file order. */
function task(af: [string, number][], conf: [string, number][], toleranceSec = 600): PartitionTask {
  const side = (rows: [string, number][]) => ({
    ids: bytesColumn(rows.map((r) => r[0])),
    rows: Uint32Array.from(rows, (_, i) => i),
    time: Float64Array.from(rows, (r) => r[1]),
    hash: Int32Array.from(rows, (r) => (r[0] === "k1" || r[0] === "k2" ? 7 : hashString(r[0]))), // k1/k2 collide on purpose
  });
  return { af: side(af), conf: side(conf), toleranceSec };
}
/** Matches as "af>conf" strings, sorted. */
const pairs = (t: PartitionTask) => {
  const d = matchPartition(t);
  const out: string[] = [];
  for (let i = 0; i < d.type.length; i++) if (d.type[i] === MATCHED) out.push(`${d.afRow[i]}>${d.confRow[i]}`);
  return out.sort();
};

describe("matchPartition", () => {
  test("two purchases compete for one confirmation: the smaller |dt| wins, the other is af_only", () => {
    // af0 at 0 s, af1 at 60 s, one confirmation at 50 s: |dt| = 50 and 10 -> af1 takes it
    expect(
      pairs(
        task(
          [
            ["k1", 0],
            ["k1", 60],
          ],
          [["k1", 50]],
        ),
      ),
    ).toEqual(["1>0"]);
  });
  test("one-to-one over the whole group, not nearest-neighbour per row", () => {
    // af0=0, af1=100; c0=90, c1=200. Pairs by |dt|: (1,0)=10, (0,0)=90, (1,1)=100, (0,1)=200.
    // (1,0) first; (0,0) and (1,1) reuse a taken row; (0,1)=200 <= 600 matches.
    expect(
      pairs(
        task(
          [
            ["k1", 0],
            ["k1", 100],
          ],
          [
            ["k1", 90],
            ["k1", 200],
          ],
        ),
      ),
    ).toEqual(["0>1", "1>0"]);
  });
  test("tolerance is inclusive: 600 s matches, 601 s does not (10 minutes)", () => {
    expect(pairs(task([["k1", 1000]], [["k1", 1600]]))).toEqual(["0>0"]);
    expect(pairs(task([["k1", 1000]], [["k1", 400]]))).toEqual(["0>0"]);
    expect(pairs(task([["k1", 1000]], [["k1", 1601]]))).toEqual([]);
    expect(pairs(task([["k1", 1000]], [["k1", 399]]))).toEqual([]);
  });
  test("ties: |dt|, then AF time, then confirmed time, then file order", () => {
    // equal |dt| = 60 to c0 (-60) and c1 (+60): the earlier confirmed time wins
    expect(
      pairs(
        task(
          [["k1", 0]],
          [
            ["k1", 60],
            ["k1", -60],
          ],
        ),
      ),
    ).toEqual(["0>1"]);
    // one confirmation at 100, AF at 160 and 40 (|dt| 60 each): the earlier AF time wins
    expect(
      pairs(
        task(
          [
            ["k1", 160],
            ["k1", 40],
          ],
          [["k1", 100]],
        ),
      ),
    ).toEqual(["1>0"]);
    // identical AF rows: file order decides
    expect(
      pairs(
        task(
          [
            ["k1", 5],
            ["k1", 5],
          ],
          [["k1", 5]],
        ),
      ),
    ).toEqual(["0>0"]);
    expect(
      pairs(
        task(
          [["k1", 5]],
          [
            ["k1", 5],
            ["k1", 5],
          ],
        ),
      ),
    ).toEqual(["0>0"]);
  });
  test("different appsflyer_ids never match; groups are independent", () => {
    expect(
      pairs(
        task(
          [
            ["k1", 0],
            ["k2", 0],
          ],
          [
            ["k2", 10],
            ["k3", 0],
          ],
        ),
      ),
    ).toEqual(["1>0"]);
  });
});

const pool = filePool();

test("reconciliation.json: summary arithmetic, flat details, sort order", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "b,purchase,2025-01-10T10:00:00Z,4.99,A,rb1,success", // matched with confirmed b@10:10:00 (dt -600 s, boundary), same revenue
      "a,purchase,2025-01-10T12:00:00Z,5.00,A,ra1,success", // matched with a@12:00:30 (dt -30), 5.00 - 4.99 = 0.01: not a mismatch
      "a,purchase,2025-01-10T13:00:00Z,5.02,A,ra2,success", // matched with a@12:59:00 (dt +60), 5.02 - 5.00 = 0.02: mismatch
      "a,purchase,2025-01-10T14:00:00Z,3.00,A,ra3,success", // chargebacked: AF revenue 0; matched with a@14:00:00, diff -3.00: mismatch
      "c,purchase,2025-01-10T15:00:00Z,1.50,A,rc1,success", // af_only: c@15:10:01 is 601 s away
      "a,refund,2025-01-11T00:00:00Z,,A,ra3,chargeback",
    ),
    "confirmed_purchases.csv": csv(
      CONFIRMED_HEADER,
      "b,2025-01-10T10:10:00Z,4.99,rb1",
      "a,2025-01-10T12:00:30Z,4.99,ra1",
      "a,2025-01-10T12:59:00Z,5.00,ra2",
      "a,2025-01-10T14:00:00Z,3.00,ra3",
      "c,2025-01-10T15:10:01Z,1.50,rc1", // confirmed_only
      "A,2025-01-10T09:00:00Z,2.25,x", // confirmed_only: ids compared exactly (A != a)
    ),
  });
  const r = o.reconciliation;
  expect(r.tolerance_minutes).toBe(10);
  // matched AF side: 4.99 + 5.00 + 5.02 + 0 (chargebacked) = 15.01; af_only 1.50; confirmed_only 1.50 + 2.25 = 3.75
  expect(r.summary).toEqual({
    matched: 4,
    af_only: 1,
    confirmed_only: 2,
    matched_revenue_usd: 15.01,
    af_only_revenue_usd: 1.5,
    confirmed_only_revenue_usd: 3.75,
    revenue_mismatches: 2,
  });
  expect(Object.keys(r.summary)).toEqual([
    "matched",
    "af_only",
    "confirmed_only",
    "matched_revenue_usd",
    "af_only_revenue_usd",
    "confirmed_only_revenue_usd",
    "revenue_mismatches",
  ]);
  // sorted by appsflyer_id (code-unit order: "A" < "a" < "b" < "c"), then time (a match by its AF time)
  expect(r.details).toEqual([
    {
      type: "confirmed_only",
      appsflyer_id: "A",
      confirmed_event_time_utc: "2025-01-10T09:00:00Z",
      confirmed_revenue_usd: 2.25,
      confirmed_receipt_id: "x",
    },
    {
      type: "matched",
      appsflyer_id: "a",
      af_event_time_utc: "2025-01-10T12:00:00Z",
      af_revenue_usd: 5,
      af_receipt_id: "ra1",
      confirmed_event_time_utc: "2025-01-10T12:00:30Z",
      confirmed_revenue_usd: 4.99,
      confirmed_receipt_id: "ra1",
      delta_seconds: -30,
      revenue_diff_usd: 0.01,
    },
    {
      type: "matched",
      appsflyer_id: "a",
      af_event_time_utc: "2025-01-10T13:00:00Z",
      af_revenue_usd: 5.02,
      af_receipt_id: "ra2",
      confirmed_event_time_utc: "2025-01-10T12:59:00Z",
      confirmed_revenue_usd: 5,
      confirmed_receipt_id: "ra2",
      delta_seconds: 60,
      revenue_diff_usd: 0.02,
    },
    {
      type: "matched",
      appsflyer_id: "a",
      af_event_time_utc: "2025-01-10T14:00:00Z",
      af_revenue_usd: 0,
      af_receipt_id: "ra3",
      confirmed_event_time_utc: "2025-01-10T14:00:00Z",
      confirmed_revenue_usd: 3,
      confirmed_receipt_id: "ra3",
      delta_seconds: 0,
      revenue_diff_usd: -3,
    },
    {
      type: "matched",
      appsflyer_id: "b",
      af_event_time_utc: "2025-01-10T10:00:00Z",
      af_revenue_usd: 4.99,
      af_receipt_id: "rb1",
      confirmed_event_time_utc: "2025-01-10T10:10:00Z",
      confirmed_revenue_usd: 4.99,
      confirmed_receipt_id: "rb1",
      delta_seconds: -600,
      revenue_diff_usd: 0,
    },
    {
      type: "af_only",
      appsflyer_id: "c",
      af_event_time_utc: "2025-01-10T15:00:00Z",
      af_revenue_usd: 1.5,
      af_receipt_id: "rc1",
    },
    {
      type: "confirmed_only",
      appsflyer_id: "c",
      confirmed_event_time_utc: "2025-01-10T15:10:01Z",
      confirmed_revenue_usd: 1.5,
      confirmed_receipt_id: "rc1",
    },
  ]);
  // key order of a detail is the SPEC's
  expect(Object.keys(r.details[1]!)).toEqual([
    "type",
    "appsflyer_id",
    "af_event_time_utc",
    "af_revenue_usd",
    "af_receipt_id",
    "confirmed_event_time_utc",
    "confirmed_revenue_usd",
    "confirmed_receipt_id",
    "delta_seconds",
    "revenue_diff_usd",
  ]);
});

test("--tolerance-min changes the window: 601 s matches with 11 minutes", async () => {
  const files = {
    "purchases_raw.csv": csv(PURCHASES_HEADER, "c,purchase,2025-01-10T15:00:00Z,1.50,A,rc1,success"),
    "confirmed_purchases.csv": csv(CONFIRMED_HEADER, "c,2025-01-10T15:10:01Z,1.50,rc1"),
  };
  expect((await run(pool, files)).reconciliation.summary.matched).toBe(0);
  const wide = await run(pool, files, { toleranceMin: 11 });
  expect(wide.reconciliation.tolerance_minutes).toBe(11);
  expect(wide.reconciliation.summary.matched).toBe(1);
});

test("ids and receipts that need escaping are valid JSON in details and quoted in the CSV", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      '"q""1",purchase,2025-01-10T10:00:00Z,1,A,"r,1",success',
      "back\\slash,purchase,2025-01-10T11:00:00Z,2,A,r2,success",
    ),
    "confirmed_purchases.csv": csv(CONFIRMED_HEADER, '"q""1",2025-01-10T10:00:00Z,1,"r,1"'),
  });
  expect(o.reconciliation.details.map((d) => [d.type, d.appsflyer_id, d.af_receipt_id])).toEqual([
    ["af_only", "back\\slash", "r2"], // "b" (0x62) sorts before "q" (0x71)
    ["matched", 'q"1', "r,1"],
  ]);
  expect(o.curated).toContain('"q""1",purchase,2025-01-10T10:00:00Z,1,A,"r,1",false');
});
