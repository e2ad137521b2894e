/**
 * SPEC 4 rule 10: ARPDAU on D-1 for every campaign with revenue (a curated purchase) that day.
 * dau = distinct user_id in sessions on D-1, per campaign when sessions has a campaign column,
 * otherwise the same all-campaign DAU for every campaign.
 */
import type { SessionsTable } from "./load.ts";
import type { DailyRow } from "./roas.ts";

/** One campaign's ARPDAU inputs: revenue in micro-dollars and the DAU. */
export interface ArpdauRow {
  campaign: string;
  revenueMicro: number;
  dau: number;
}

/** Distinct users on `day`, keyed by normalised campaign ("" key = all campaigns when there is no column). */
export function dauOn(s: SessionsTable, day: number): Map<string, number> {
  const seen = new Map<string, Uint8Array>();
  const counts = new Map<string, number>();
  for (let i = 0; i < s.n; i++) {
    if (s.day[i] !== day) continue;
    const key = s.campaign ? s.campaignDict![s.campaign[i]!]! : "";
    let bits = seen.get(key);
    if (!bits) {
      bits = new Uint8Array(s.userDict.length);
      seen.set(key, bits);
      counts.set(key, 0);
    }
    const u = s.user[i]!;
    if (!bits[u]) {
      bits[u] = 1;
      counts.set(key, counts.get(key)! + 1);
    }
  }
  return counts;
}

/** Rule 10 rows, in the order of `d1Rows` (campaign order). */
export function arpdauD1(d1Rows: DailyRow[], s: SessionsTable, d1: number): ArpdauRow[] {
  const dau = dauOn(s, d1);
  return d1Rows
    .filter((r) => r.purchases > 0)
    .map((r) => ({ campaign: r.campaign, revenueMicro: r.revenueMicro, dau: dau.get(s.campaign ? r.campaign : "") ?? 0 }));
}
