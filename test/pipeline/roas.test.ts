/** dailyRoas / roasD1, SPEC 4 rules 7, 8, 11: full outer join, null ROAS, D-1 and --as-of, rounding. */
import { expect, test } from "bun:test";
import { COSTS_HEADER, csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

const files = {
  "purchases_raw.csv": csv(
    PURCHASES_HEADER,
    "u1,purchase,2025-01-09T01:00:00Z,4.99,A,r1,success",
    'u2,purchase,2025-01-09T23:59:59Z,"5,01", a ,r2,success', // campaign normalised: A; A revenue = 4.99 + 5.01 = 10.00
    "u3,purchase,2025-01-09T12:00:00Z,3,B,r3,success", // B: revenue, no cost row -> ad_cost null, roas null
    "u4,purchase,2025-01-09T12:00:00Z,2,D,r4,success", // D: chargebacked to 0, still a "campaign with revenue"
    "u4,refund,2025-01-10T00:00:00Z,,D,r4,chargeback",
    "u5,purchase,2025-01-09T12:00:00Z,1.005,R,r5,success", // R: 1.005 -> 1.01 (half away from zero)
    "u6,purchase,2025-01-09T12:00:00Z,0.000001,S,r6,success", // S: 0.000001 / 2 = 0.0000005 -> 0.000001
    "u7,purchase,2025-01-10T00:30:00+01:00,7,A,r7,success", // 2025-01-09T23:30Z: counts on 2025-01-09 (UTC date)
    "u8,purchase,2025-01-10T08:00:00Z,1,A,r8,success", // the latest curated day: as-of 2025-01-10, D-1 2025-01-09
  ),
  "costs_daily.csv": csv(
    COSTS_HEADER,
    "2025-01-09,A,2.50",
    '2025-01-09,a,"2,50"', // summed per (date, normalised campaign): A cost 5.00
    "2025-01-09,C,7", // C: cost, no purchase -> revenue 0, roas 0
    "2025-01-09,D,4", // D: 0 / 4 = 0
    "2025-01-09,E,0", // E: cost 0 -> roas null
    "2025-01-09,R,3",
    "2025-01-09,S,2",
    "2025-01-08,A,1", // other day
  ),
};

test("roas_d1.json: full outer join on D-1, sorted by campaign, exact ratios", async () => {
  const o = await run(pool, files);
  expect(o.result.summary.asOf).toBe("2025-01-10");
  expect(o.roasD1).toEqual([
    // A: revenue 4.99 + 5.01 + 7 = 17.00; cost 5.00; roas 17 / 5 = 3.4
    { date: "2025-01-09", campaign: "A", revenue_usd: 17, ad_cost_usd: 5, roas: 3.4 },
    { date: "2025-01-09", campaign: "B", revenue_usd: 3, ad_cost_usd: null, roas: null },
    { date: "2025-01-09", campaign: "C", revenue_usd: 0, ad_cost_usd: 7, roas: 0 },
    { date: "2025-01-09", campaign: "D", revenue_usd: 0, ad_cost_usd: 4, roas: 0 },
    { date: "2025-01-09", campaign: "E", revenue_usd: 0, ad_cost_usd: 0, roas: null },
    // R: 1.005 / 3 = 0.335 exactly
    { date: "2025-01-09", campaign: "R", revenue_usd: 1.01, ad_cost_usd: 3, roas: 0.335 },
    { date: "2025-01-09", campaign: "S", revenue_usd: 0, ad_cost_usd: 2, roas: 0.000001 },
  ]);
});

test("--as-of picks D-1 = as-of minus one day; a day without data gives empty outputs", async () => {
  const o = await run(pool, files, { asOf: "2025-01-09" });
  expect(o.result.summary.d1).toBe("2025-01-08");
  // only the 2025-01-08 cost row: revenue 0 / cost 1
  expect(o.roasD1).toEqual([{ date: "2025-01-08", campaign: "A", revenue_usd: 0, ad_cost_usd: 1, roas: 0 }]);
  expect(o.arpdau).toEqual([]); // A has cost but no purchase on 2025-01-08

  const later = await run(pool, files, { asOf: "2025-03-01" });
  expect(later.roasD1).toEqual([]);
  expect(later.anomaly).toEqual([]);
  expect(later.arpdau).toEqual([]);
});
