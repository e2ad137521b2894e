/**
 * The small JSON outputs (SPEC 4 rules 8-11 and 4.1 "Outputs"): exact values rounded half away
 * from zero once, USD to 2 decimals and ratios to 6; fixed key order. The two big files:
 * curated-csv.ts and reconciliation-json.ts.
 */
import type { ArpdauRow } from "../arpdau.ts";
import { type Ratio, ratio, roundRatio, usd } from "../exact.ts";
import { formatDate, MICRO } from "../normalise.ts";
import { type Anomaly, type DailyRow, roasOf } from "../roas.ts";

/** Pretty JSON with a trailing newline (the small outputs). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** A ratio rounded to 6 decimals, or null. */
function ratioOut(x: Ratio | null): number | null {
  return x === null ? null : roundRatio(x, 6);
}

/** Daily ROAS rows as JSON: roas_d1.json, and the daily series of index.html. */
export function dailyRoasJson(
  rows: DailyRow[],
): { date: string; campaign: string; revenue_usd: number; ad_cost_usd: number | null; roas: number | null }[] {
  return rows.map((r) => ({
    date: formatDate(r.day),
    campaign: r.campaign,
    revenue_usd: usd(r.revenueMicro),
    ad_cost_usd: r.hasCost ? usd(r.costMicro) : null,
    roas: ratioOut(roasOf(r)),
  }));
}

/** roas_anomaly.json rows. */
export function anomalyJson(d1: number, rows: Anomaly[]) {
  return rows.map((a) => ({
    date: formatDate(d1),
    campaign: a.campaign,
    roas_d1: ratioOut(a.roasD1),
    avg7: ratioOut(a.avg7),
    baseline_days: a.baselineDays,
    anomaly: a.anomaly,
  }));
}

/** arpdau_d1.json rows: arpdau = revenue / dau (6 decimals), null when dau is 0. */
export function arpdauJson(d1: number, rows: ArpdauRow[]) {
  return rows.map((a) => ({
    date: formatDate(d1),
    campaign: a.campaign,
    revenue_usd: usd(a.revenueMicro),
    dau: a.dau,
    arpdau: a.dau === 0 ? null : roundRatio(ratio(a.revenueMicro, a.dau * MICRO), 6),
  }));
}
