/** anomalies, SPEC 4 rule 9: avg7 over D-8..D-2, skipped days, anomaly = roas_d1 < 0.5 * avg7. */
import { expect, test } from "bun:test";
import { COSTS_HEADER, csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

// --as-of 2025-01-20 -> D-1 = 2025-01-19, window D-8..D-2 = 2025-01-12..2025-01-18
const purchase = (day: string, campaign: string, revenue: string, n: number) =>
  `u${n},purchase,${day}T12:00:00Z,${revenue},${campaign},r${n},success`;

test("avg7 window, skipped days, ROAS 0 days, strict half threshold", async () => {
  let n = 0;
  const p: string[] = [];
  const c: string[] = [];
  // Campaign A: ROAS 2 on 01-12, 01-14 (revenue 4 / cost 2); cost-only day 01-15 counts as ROAS 0;
  // 01-13 has neither (skipped); 01-16 revenue without cost (null, skipped); 01-11 (D-9) and 01-19 (D-1) are outside.
  // avg7 = (2 + 2 + 0) / 3 = 4/3 = 1.333333, baseline_days 3.
  // D-1: revenue 2 / cost 3 = 2/3 = 0.666667 -> 2/3 < 0.5 * 4/3 = 2/3 is false: exactly half is not an anomaly (strict <).
  p.push(
    purchase("2025-01-12", "A", "4", n++),
    purchase("2025-01-14", "A", "4", n++),
    purchase("2025-01-16", "A", "9", n++),
  );
  p.push(purchase("2025-01-11", "A", "100", n++), purchase("2025-01-19", "A", "2", n++));
  c.push("2025-01-12,A,2", "2025-01-14,A,2", "2025-01-15,A,5", "2025-01-11,A,1", "2025-01-19,A,3");
  // Campaign B: ROAS 1 every day of the window (7 days); D-1 ROAS 0.49 < 0.5 -> anomaly.
  for (let d = 12; d <= 18; d++) {
    p.push(purchase(`2025-01-${d}`, "B", "10", n++));
    c.push(`2025-01-${d},B,10`);
  }
  p.push(purchase("2025-01-19", "B", "4.9", n++));
  c.push("2025-01-19,B,10");
  // Campaign C: no history at all -> avg7 null, baseline_days 0, anomaly false.
  p.push(purchase("2025-01-19", "C", "1", n++));
  c.push("2025-01-19,C,1");
  // Campaign D: history of ROAS 0 only (cost, no revenue) -> avg7 0, not > 0 -> anomaly false.
  c.push("2025-01-13,D,5", "2025-01-19,D,5");
  // Campaign E: D-1 revenue without cost -> roas_d1 null -> anomaly false despite a baseline.
  p.push(purchase("2025-01-12", "E", "1", n++), purchase("2025-01-19", "E", "1", n++));
  c.push("2025-01-12,E,1");

  const o = await run(
    pool,
    { "purchases_raw.csv": csv(PURCHASES_HEADER, ...p), "costs_daily.csv": csv(COSTS_HEADER, ...c) },
    { asOf: "2025-01-20" },
  );
  expect(o.anomaly).toEqual([
    { date: "2025-01-19", campaign: "A", roas_d1: 0.666667, avg7: 1.333333, baseline_days: 3, anomaly: false },
    { date: "2025-01-19", campaign: "B", roas_d1: 0.49, avg7: 1, baseline_days: 7, anomaly: true },
    { date: "2025-01-19", campaign: "C", roas_d1: 1, avg7: null, baseline_days: 0, anomaly: false },
    { date: "2025-01-19", campaign: "D", roas_d1: 0, avg7: 0, baseline_days: 1, anomaly: false },
    { date: "2025-01-19", campaign: "E", roas_d1: null, avg7: 1, baseline_days: 1, anomaly: false },
  ]);
  // same campaigns, same order as roas_d1.json
  expect(o.anomaly.map((a) => a.campaign)).toEqual(o.roasD1.map((r) => r.campaign));
  expect(o.result.summary.anomalies).toBe(1);
});

test("just below half is an anomaly (compared exactly, before rounding)", async () => {
  // avg7 = 1 (one day, 10 / 10); D-1 = 4.999999 / 10 = 0.4999999 < 0.5 -> anomaly, although it rounds to 0.5
  const o = await run(
    pool,
    {
      "purchases_raw.csv": csv(
        PURCHASES_HEADER,
        purchase("2025-01-12", "A", "10", 1),
        purchase("2025-01-19", "A", "4.999999", 2),
      ),
      "costs_daily.csv": csv(COSTS_HEADER, "2025-01-12,A,10", "2025-01-19,A,10"),
    },
    { asOf: "2025-01-20" },
  );
  expect(o.anomaly).toEqual([
    { date: "2025-01-19", campaign: "A", roas_d1: 0.5, avg7: 1, baseline_days: 1, anomaly: true },
  ]);
});
