/** arpdauD1 / dauOn, SPEC 4 rule 10: ARPDAU on D-1 with and without a campaign column in sessions. */
import { expect, test } from "bun:test";
import { COSTS_HEADER, csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

// as-of defaults to 2025-01-10 (latest curated purchase) -> D-1 = 2025-01-09
const purchases = csv(
  PURCHASES_HEADER,
  "p1,purchase,2025-01-09T08:00:00Z,4,A,r1,success",
  "p2,purchase,2025-01-09T09:00:00Z,6,A,r2,success", // A revenue 4 + 6 = 10
  "p3,purchase,2025-01-09T10:00:00Z,3,B,r3,success", // B revenue 3
  "p4,purchase,2025-01-09T11:00:00Z,5,C,r4,success", // C chargebacked: revenue 0, still listed
  "p4,refund,2025-01-09T12:00:00Z,,C,r4,chargeback",
  "p5,purchase,2025-01-09T13:00:00Z,2,D,r5,success", // D: nobody in sessions for D
  "p6,purchase,2025-01-10T13:00:00Z,1,A,r6,success",
);
const costs = csv(COSTS_HEADER, "2025-01-09,E,50"); // E: cost only -> not in arpdau_d1.json

test("per campaign when sessions has a campaign column", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": purchases,
    "costs_daily.csv": costs,
    "sessions.csv": csv(
      "User_ID,Event_Timestamp_UTC,Campaign",
      "u1,2025-01-09T00:00:00Z,A",
      "u1,2025-01-09T05:00:00Z,A", // same user again: still 1
      "u2,2025-01-09T06:00:00Z, a ", // campaign normalised to A
      " u2,2025-01-09T06:00:00Z,A", // user ids compared as written: " u2" is another user
      "u1,2025-01-09T07:00:00Z,B", // the same user counts in each campaign
      "u3,2025-01-09T07:00:00Z,C",
      "u4,2025-01-08T23:59:59Z,A", // D-2: not counted
      "u5,2025-01-09T23:30:00-01:00,A", // 2025-01-10T00:30Z: not D-1
    ),
  });
  expect(o.arpdau).toEqual([
    { date: "2025-01-09", campaign: "A", revenue_usd: 10, dau: 3, arpdau: 3.333333 }, // 10 / 3 (u1, u2, " u2")
    { date: "2025-01-09", campaign: "B", revenue_usd: 3, dau: 1, arpdau: 3 }, // 3 / 1
    { date: "2025-01-09", campaign: "C", revenue_usd: 0, dau: 1, arpdau: 0 }, // 0 / 1
    { date: "2025-01-09", campaign: "D", revenue_usd: 2, dau: 0, arpdau: null }, // dau 0 -> null
  ]);
});

test("without a campaign column every campaign shares the all-campaign DAU (date column works too)", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": purchases,
    "costs_daily.csv": costs,
    "sessions.csv": csv(
      "user_id,date",
      "u1,2025-01-09",
      "u2,2025-01-09",
      "u3,2025-01-09",
      "u1,2025-01-09",
      "u9,2025-01-10",
    ),
  });
  // DAU on 2025-01-09 = {u1, u2, u3} = 3 for every campaign
  expect(o.arpdau).toEqual([
    { date: "2025-01-09", campaign: "A", revenue_usd: 10, dau: 3, arpdau: 3.333333 },
    { date: "2025-01-09", campaign: "B", revenue_usd: 3, dau: 3, arpdau: 1 },
    { date: "2025-01-09", campaign: "C", revenue_usd: 0, dau: 3, arpdau: 0 },
    { date: "2025-01-09", campaign: "D", revenue_usd: 2, dau: 3, arpdau: 0.666667 },
  ]);
});

test("with an explicit --as-of the D-1 sessions are kept at load time and give the same DAU", async () => {
  const o = await run(
    pool,
    {
      "purchases_raw.csv": purchases,
      "costs_daily.csv": costs,
      "sessions.csv": csv("user_id,date", "u1,2025-01-09", "u2,2025-01-09", "u1,2025-01-08"),
    },
    { asOf: "2025-01-10" },
  );
  expect(o.arpdau.map((a) => a.dau)).toEqual([2, 2, 2, 2]);
  expect(o.quality.files["sessions.csv"]!.rows).toBe(3);
});
