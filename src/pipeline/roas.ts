/**
 * SPEC 4 rules 7-9: daily ROAS per (UTC date, campaign) as a full outer join of curated revenue
 * and summed costs, the D-1 slice, and the avg7 anomaly check over D-8..D-2. All values exact:
 * money in micro-dollars, ratios as BigInt fractions.
 */
import { Interner } from "./columns/interner.ts";
import type { Curated } from "./curate.ts";
import { addRatio, divRatio, isPositive, lessThan, type Ratio, ratio } from "./exact.ts";
import { SECONDS_PER_DAY } from "./normalise.ts";
import { type CostsTable, EVENT_PURCHASE, type PurchasesTable, STATUS_SUCCESS } from "./tables.ts";

/** One (day, campaign) of the join. */
export interface DailyRow {
  /** epoch day (UTC) */
  day: number;
  campaign: string;
  revenueMicro: number;
  /** curated purchases that day (chargebacked ones included: "campaign with revenue") */
  purchases: number;
  costMicro: number;
  /** at least one cost row that day */
  hasCost: boolean;
}

/** Daily revenue and cost per (day, campaign), sorted by day then campaign (code-unit order). */
export function dailyRoas(p: PurchasesTable, curated: Curated, costs: CostsTable): DailyRow[] {
  const campaigns = new Interner();
  const pCode = Uint32Array.from(p.campaignDict, (s) => campaigns.code(s));
  const cCode = Uint32Array.from(costs.campaignDict, (s) => campaigns.code(s));
  const cells = new Map<number, DailyRow>();
  const width = Math.max(1, campaigns.values.length);
  const cellOf = (day: number, code: number): DailyRow => {
    const key = day * width + code;
    let row = cells.get(key);
    if (!row) {
      row = { day, campaign: campaigns.values[code]!, revenueMicro: 0, purchases: 0, costMicro: 0, hasCost: false };
      cells.set(key, row);
    }
    return row;
  };
  for (let j = 0; j < curated.n; j++) {
    const i = curated.rows[j]!;
    const row = cellOf(Math.floor(p.time[i]! / SECONDS_PER_DAY), pCode[p.campaign[i]!]!);
    row.revenueMicro += curated.revenue[j]!;
    row.purchases++;
  }
  for (let i = 0; i < costs.n; i++) {
    const row = cellOf(costs.day[i]!, cCode[costs.campaign[i]!]!);
    row.costMicro += costs.cost[i]!;
    row.hasCost = true;
  }
  return [...cells.values()].sort(
    (a, b) => a.day - b.day || (a.campaign < b.campaign ? -1 : a.campaign > b.campaign ? 1 : 0),
  );
}

/** revenue / cost, or null when there is no cost row or the cost is 0. */
export function roasOf(row: DailyRow): Ratio | null {
  return row.hasCost && row.costMicro !== 0 ? ratio(row.revenueMicro, row.costMicro) : null;
}

/**
 * Latest UTC day among the purchases that pass rule 2 (the default --as-of; the curated ones have
 * the same latest day: dedupe keeps one row of every kept key, time included); NaN when none.
 */
export function latestKeptDay(p: PurchasesTable): number {
  let max = -Infinity;
  for (let i = 0; i < p.n; i++) {
    if (
      (p.flags[i]! & (STATUS_SUCCESS | EVENT_PURCHASE)) === (STATUS_SUCCESS | EVENT_PURCHASE) &&
      p.revenue[i]! > 0 &&
      p.time[i]! > max
    )
      max = p.time[i]!;
  }
  return max === -Infinity ? NaN : Math.floor(max / SECONDS_PER_DAY);
}

/** Rule 8: the rows of D-1 with revenue (a curated purchase) or cost, sorted by campaign. */
export function roasD1(daily: DailyRow[], d1: number): DailyRow[] {
  // daily is sorted by day then campaign, so the slice is already in campaign order
  return daily.filter((r) => r.day === d1 && (r.purchases > 0 || r.hasCost));
}

/** Rule 9 for one campaign. */
export interface Anomaly {
  campaign: string;
  roasD1: Ratio | null;
  avg7: Ratio | null;
  baselineDays: number;
  anomaly: boolean;
}

/**
 * avg7 = mean of the campaign's non-null daily ROAS over D-8..D-2 (cost without revenue is ROAS
 * 0; a day with neither, or revenue without cost, is skipped). anomaly = roas_d1 < avg7 / 2 when
 * both exist and avg7 > 0, compared exactly.
 */
export function anomalies(daily: DailyRow[], d1Rows: DailyRow[], d1: number): Anomaly[] {
  const byKey = new Map<string, DailyRow>();
  for (const r of daily) if (r.day >= d1 - 7 && r.day <= d1 - 1) byKey.set(`${r.day}|${r.campaign}`, r);
  return d1Rows.map((row) => {
    let sum: Ratio | null = null;
    let days = 0;
    for (let day = d1 - 7; day <= d1 - 1; day++) {
      const past = byKey.get(`${day}|${row.campaign}`);
      const roas = past ? roasOf(past) : null;
      if (!roas) continue;
      sum = sum ? addRatio(sum, roas) : roas;
      days++;
    }
    const avg7 = sum ? divRatio(sum, days) : null;
    const roasD1 = roasOf(row);
    const anomaly = roasD1 !== null && avg7 !== null && isPositive(avg7) && lessThan(roasD1, divRatio(avg7, 2));
    return { campaign: row.campaign, roasD1, avg7, baselineDays: days, anomaly };
  });
}
