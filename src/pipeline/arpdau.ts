/**
 * SPEC 4 rule 10: ARPDAU on D-1 for every campaign with revenue (a curated purchase) that day.
 * dau = distinct user_id in sessions on D-1, per campaign when sessions has a campaign column,
 * otherwise the same all-campaign DAU for every campaign.
 */
import { ByteDict } from "./byte-dict.ts";
import type { DailyRow } from "./roas.ts";
import type { SessionsTable } from "./tables.ts";

/** One campaign's ARPDAU inputs: revenue in micro-dollars and the DAU. */
export interface ArpdauRow {
  campaign: string;
  revenueMicro: number;
  dau: number;
}

/** Distinct users on `day`, keyed by normalised campaign ("" key = all campaigns when there is no column). */
function dauOn(s: SessionsTable, day: number): Map<string, number> {
  const users = new Map<string, ByteDict>(); // a set of user ids (bytes) per campaign
  const { bytes, offsets } = s.user;
  for (let i = 0; i < s.n; i++) {
    if (s.day[i] !== day) continue;
    const key = s.campaign ? s.campaignDict![s.campaign[i]!]! : "";
    let set = users.get(key);
    if (!set) {
      set = new ByteDict();
      users.set(key, set);
    }
    const from = offsets[i]!,
      to = offsets[i + 1]!,
      h = s.userHash[i]!;
    if (set.find(bytes, from, to, h) < 0) set.add(bytes, from, to, h, 1); // only D-1 rows get here: a small set
  }
  return new Map([...users].map(([k, v]) => [k, v.size]));
}

/** Rule 10 rows, in the order of `d1Rows` (campaign order). */
export function arpdauD1(d1Rows: DailyRow[], s: SessionsTable, d1: number): ArpdauRow[] {
  const dau = dauOn(s, d1);
  return d1Rows
    .filter((r) => r.purchases > 0)
    .map((r) => ({
      campaign: r.campaign,
      revenueMicro: r.revenueMicro,
      dau: dau.get(s.campaign ? r.campaign : "") ?? 0,
    }));
}
