/**
 * Seeded generator of the four pipeline inputs (SPEC §4), with the messiness of real
 * AppsFlyer / store exports.
 *
 *   bun run gen:data -- --out DIR --purchases N --seed S [--days D] [--campaigns C]
 *     [--end YYYY-MM-DD] [--sessions-campaign] [--sessions-date] [--dau-ratio R] [--quiet]
 *
 * Streams every file (bounded buffers, backpressure), keeps no per-row state beyond a
 * small queue of delayed duplicates, and is byte-identical for the same arguments.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CsvWriter } from "./gen-data/csv-writer.ts";
import { buildCampaigns, EVENT_VALUE, EVENT_VALUE_NL, PRICE_CUM, PRICES, receiptId, Users } from "./gen-data/model.ts";
import { dayString, fmtMoney, fmtTime, mulberry32, parseDay, pickCum, seedFrom } from "./gen-data/util.ts";

export interface GenOptions {
  out: string;
  purchases: number;
  seed: string;
  days: number;
  campaigns: number;
  end: string;
  sessionsCampaign: boolean;
  sessionsDate: boolean;
  dauRatio: number;
  quiet: boolean;
}

export function parseArgs(argv: string[]): GenOptions {
  const o: GenOptions = {
    out: "data",
    purchases: 2000,
    seed: "42",
    days: 30,
    campaigns: 6,
    end: "2025-06-30",
    sessionsCampaign: false,
    sessionsDate: false,
    dauRatio: 3,
    quiet: false,
  };
  const args = argv.filter((a) => a !== "--");
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    const int = (min: number): number => {
      const v = val();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a} must be an integer >= ${min}, got ${v}`);
      return n;
    };
    if (a === "--out") o.out = val();
    else if (a === "--purchases") o.purchases = int(0);
    else if (a === "--seed") o.seed = val();
    else if (a === "--days") o.days = int(1);
    else if (a === "--campaigns") o.campaigns = int(1);
    else if (a === "--end") {
      o.end = val();
      parseDay(o.end);
    } else if (a === "--dau-ratio") {
      o.dauRatio = Number(val());
      if (!(o.dauRatio >= 0)) throw new Error("--dau-ratio must be >= 0");
    } else if (a === "--sessions-campaign") o.sessionsCampaign = true;
    else if (a === "--sessions-date") o.sessionsDate = true;
    else if (a === "--quiet") o.quiet = true;
    else throw new Error(`unknown argument: ${a}`);
  }
  return o;
}

const BAD_TIMES = ["2025-13-02 10:11:12", "not_a_date", "", "31/12/2024 10:00", "2025-06-15T25:61:00Z"];
const BAD_NUMBERS = ['"$4.99"', "NaN", "1e3", "", "4.99 USD", "abc"];

export async function generate(
  o: GenOptions,
): Promise<{ rows: number; seconds: number; files: Record<string, number> }> {
  const t0 = performance.now();
  const seed = seedFrom(o.seed);
  const rnd = mulberry32(seed);
  const camps = buildCampaigns(o.campaigns, rnd);
  const users = new Users(camps, seed);
  const N = o.purchases,
    D = o.days;
  const payers = Math.max(20, Math.ceil(N * 0.35));
  const pool = payers + Math.max(50, payers * 3);
  const lastDay = parseDay(o.end),
    firstDay = lastDay - D + 1;
  const exportEnd = lastDay * 86400 + Math.floor(0.4 * 86400); // export pulled mid-morning
  const d1 = D >= 3 ? lastDay - 1 : -1;
  const paidIdx = camps.map((c, i) => (c.hasUsers && c.hasCost ? i : -1)).filter((i) => i >= 0);
  const dropCamp = paidIdx[1] ?? -1; // D-1 revenue drop
  const spikeCamp = paidIdx[2] ?? -1; // D-1 cost spike
  const badRate = Math.min(0.002, Math.max(0.0001, 4 / Math.max(1, N)));

  mkdirSync(o.out, { recursive: true });
  const P = new CsvWriter(join(o.out, "purchases_raw.csv"), [
    "AppsFlyer_ID",
    "Event_Name",
    "Event_Time_UTC",
    "Revenue_USD",
    "Currency",
    "Campaign",
    "Media_Source",
    "Platform",
    "Receipt_ID",
    "Status",
    "Event_Value",
  ]);
  const C = new CsvWriter(
    join(o.out, "confirmed_purchases.csv"),
    ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id", "store"],
    { bom: true, crlf: true },
  );
  const K = new CsvWriter(join(o.out, "costs_daily.csv"), [
    "date",
    "campaign",
    "media_source",
    "ad_cost_usd",
    "impressions",
    "clicks",
  ]);
  const S = new CsvWriter(join(o.out, "sessions.csv"), [
    "user_id",
    "event_name",
    o.sessionsDate ? "date" : "event_timestamp_utc",
    ...(o.sessionsCampaign ? ["campaign"] : []),
  ]);
  const writers = [P, C, K, S];

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const variant = (c: number): string => {
    const r = rnd();
    return camps[c]!.variants[r < 0.7 ? 0 : r < 0.8 ? 1 : r < 0.9 ? 2 : 3]!;
  };
  const moneyStyle = (): number => {
    const r = rnd();
    return r < 0.9 ? 0 : r < 0.97 ? 1 : 4;
  };
  const evName = (): string => {
    const r = rnd();
    return r < 0.85 ? "purchase" : r < 0.93 ? "Purchase" : r < 0.97 ? " purchase" : "PURCHASE";
  };
  const status = (): string => {
    const r = rnd();
    return r < 0.88 ? "success" : r < 0.94 ? "Success" : r < 0.98 ? "SUCCESS " : " success";
  };
  const afTimeStyle = (): number => {
    const r = rnd();
    return r < 0.6 ? 0 : r < 0.9 ? 1 : r < 0.98 ? 2 : 3;
  };
  let receipts = 0;
  const dupes: string[] = [];
  const campRev = new Float64Array(camps.length);
  const revEma = new Float64Array(camps.length).fill(NaN);

  const afLine = (
    uid: string,
    u: number,
    c: number,
    ev: string,
    t: number,
    money: string,
    receipt: string,
    st: string,
    pi: number,
  ): string =>
    `${uid},${ev},${fmtTime(t, afTimeStyle(), (rnd() * 1000) | 0)},${money},USD,${variant(c)},${camps[c]!.mediaSource},` +
    `${users.isIos(u) ? "ios" : "android"},${receipt},${st},${pi < 0 ? "" : rnd() < 0.002 ? EVENT_VALUE_NL[pi] : EVENT_VALUE[pi]}`;

  const session = (u: number, t: number, uid = users.id(u)): void => {
    const tail = o.sessionsCampaign ? `,${variant(users.campaignOf(u))}` : "";
    const when = o.sessionsDate ? dayString(Math.floor(t / 86400)) : fmtTime(t, rnd() < 0.7 ? 1 : 0);
    S.line(`${uid},${rnd() < 0.8 ? "session_start" : "af_app_opened"},${when}${tail}`);
  };

  const confirmed = (uid: string, t: number, cents: number, receipt: string, ios: boolean): void => {
    const r = rnd();
    let delta = r < 0.7 ? rnd() * 120 : r < 0.9 ? 120 + rnd() * 420 : r < 0.95 ? 540 + rnd() * 121 : 661 + rnd() * 240;
    delta = Math.floor(delta) * (rnd() < 0.8 ? 1 : -1);
    const s = rnd();
    const style = s < 0.7 ? 2 : s < 0.9 ? 1 : s < 0.95 ? 3 : 0;
    const m = rnd();
    const paid =
      m < 0.985 ? cents : m < 0.99 ? cents + (rnd() < 0.5 ? 1 : -1) : Math.max(1, cents - 20 - Math.floor(rnd() * 30));
    C.line(
      `${uid},${fmtTime(t + delta, style, (rnd() * 1000) | 0)},${fmtMoney(paid, rnd() < 0.95 ? 0 : 1)},${receipt},${ios ? "app_store" : "google_play"}`,
    );
  };

  const purchase = (u: number, c: number, t: number): void => {
    const pi = pickCum(PRICE_CUM, rnd());
    const cents = PRICES[pi]!;
    const ios = users.isIos(u);
    const receipt = receiptId(++receipts, ios, seed);
    const ev = evName();
    const uid = users.id(u);
    P.line(afLine(uid, u, c, ev, t, fmtMoney(cents, moneyStyle()), receipt, status(), pi));
    campRev[c] += cents;
    session(u, Math.max(Math.floor(t / 86400) * 86400, t - Math.floor(rnd() * 1200)), uid);
    if (rnd() < 0.92) confirmed(uid, t, cents, receipt, ios);
    if (rnd() < 0.03) dupes.push(afLine(uid, u, c, ev, t, fmtMoney(cents, moneyStyle()), receipt, status(), pi));
    if (rnd() < 0.015) {
      // chargeback, days later, sometimes without revenue
      const tc = t + 3600 + Math.floor(rnd() * 10 * 86400);
      if (tc < exportEnd) {
        const cbEv = pick(["purchase", "purchase", "af_refund", "chargeback"]);
        P.line(
          afLine(
            uid,
            u,
            c,
            cbEv,
            tc,
            rnd() < 0.6 ? fmtMoney(cents, 0) : "",
            receipt,
            pick(["chargeback", "Chargeback", "CHARGEBACK"]),
            -1,
          ),
        );
      }
    }
    if (rnd() < badRate) broken(uid, c, t, rnd() < 0.5);
  };

  /** Unparseable rows (bad time or bad number) in every file but costs (handled in writeCosts). */
  const broken = (uid: string, c: number, t: number, badTime: boolean): void => {
    const cents = PRICES[pickCum(PRICE_CUM, rnd())]!;
    const time = badTime ? pick(BAD_TIMES) : fmtTime(t, 1);
    const money = badTime ? fmtMoney(cents, 0) : pick(BAD_NUMBERS);
    const receipt = receiptId(++receipts, false, seed);
    P.line(`${uid},purchase,${time},${money},USD,${variant(c)},${camps[c]!.mediaSource},android,${receipt},success,`);
    C.line(`${uid},${time},${money},${receipt},google_play`);
    if (badTime) S.line(`${uid},session_start,${time}${o.sessionsCampaign ? `,${variant(c)}` : ""}`);
  };

  /** Noise around each purchase: failed, non-purchase, promo rows, confirmed-only, delayed dupes, sessions. */
  const noise = (dayStart: number, span: number): void => {
    const u = Math.floor(rnd() * payers),
      c = users.campaignOf(u);
    const t = dayStart + Math.floor(rnd() * span);
    if (rnd() < 0.035) {
      const pi = pickCum(PRICE_CUM, rnd());
      P.line(
        afLine(
          users.id(u),
          u,
          c,
          "purchase",
          t,
          fmtMoney(PRICES[pi]!, 0),
          receiptId(++receipts, users.isIos(u), seed),
          pick(["failed", "FAILED", "declined", "pending "]),
          pi,
        ),
      );
    }
    if (rnd() < 0.12) {
      const ev = pick(["af_level_achieved", "af_tutorial_completion", "af_ad_view", "af_login"]);
      const money = ev === "af_ad_view" ? `0.0${100 + Math.floor(rnd() * 900)}` : "0";
      P.line(afLine(users.id(u), u, c, ev, t, money, "", "success", -1));
    }
    if (rnd() < 0.004)
      P.line(afLine(users.id(u), u, c, "purchase", t, "0.00", receiptId(++receipts, false, seed), "success", -1));
    if (rnd() < 0.015) {
      // confirmed-only: a store purchase AppsFlyer never attributed
      const k = ++receipts;
      confirmed(
        `${1690000000000 + k * 7}-${String(k).padStart(7, "0")}`,
        t,
        PRICES[pickCum(PRICE_CUM, rnd())]!,
        receiptId(k, false, seed),
        false,
      );
    }
    if (rnd() < 0.001) P.line(afLine(users.id(u), u, c, "chargeback", t, "", "", "chargeback", -1)); // empty receipt
    if (dupes.length > 0 && (dupes.length > 32 || rnd() < 0.02)) P.line(dupes.shift()!);
    const k = Math.floor(o.dauRatio) + (rnd() < o.dauRatio % 1 ? 1 : 0);
    for (let i = 0; i < k; i++) session(Math.floor(rnd() * pool), dayStart + Math.floor(rnd() * span));
  };

  // Purchases per day: weekly pattern, growth, a partial last day; exact total N.
  const weights: number[] = [];
  for (let d = firstDay; d <= lastDay; d++) {
    const dow = (d + 4) % 7; // 0 = Sunday
    const w = (dow === 0 || dow === 6 ? 1.18 : 1) * (1 + (0.3 * (d - firstDay)) / D) * (0.92 + rnd() * 0.16);
    weights.push(d === lastDay && D > 1 ? w * 0.35 : w);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  let cumW = 0,
    done = 0,
    iter = 0;
  for (let di = 0; di < D; di++) {
    const day = firstDay + di,
      dayStart = day * 86400;
    cumW += weights[di]!;
    const target = di === D - 1 ? N : Math.round((N * cumW) / total);
    const span = day === lastDay ? exportEnd - dayStart : 86400;
    campRev.fill(0);
    const dayFirst = done;
    while (done < target) {
      let u = Math.floor(payers * rnd() ** 1.3); // skewed: a few whales buy a lot
      let c = users.campaignOf(u);
      for (let tries = 0; day === d1 && c === dropCamp && tries < 6 && rnd() < 0.85; tries++) {
        u = Math.floor(payers * rnd() ** 1.3);
        c = users.campaignOf(u);
      }
      const f = rnd() < 0.55 ? rnd() : Math.min(0.999, Math.max(0, 0.79 + (rnd() + rnd() + rnd() - 1.5) * 0.18));
      let t = dayStart + Math.floor(f * span);
      if (di === Math.floor(D / 2) && done === dayFirst) {
        broken(users.id(u), c, t, true); // at least one of each kind whatever the size
        broken(users.id(u), c, t, false);
      }
      const burst = Math.min(target - done, rnd() < 0.04 ? (rnd() < 0.3 ? 3 : 2) : 1);
      for (let b = 0; b < burst; b++) {
        // same user, several purchases within minutes
        purchase(u, c, t);
        t += 30 + Math.floor(rnd() * 240);
        done++;
      }
      noise(dayStart, span);
      if ((++iter & 1023) === 0) for (const w of writers) await w.drain();
    }
    writeCosts(day);
    for (const w of writers) await w.drain();
  }
  while (dupes.length > 0) P.line(dupes.shift()!);

  function writeCosts(day: number): void {
    let paidTotal = 0;
    camps.forEach((c, i) => {
      if (!c.hasCost) return;
      // Budget follows the smoothed revenue of earlier days, not today's: a revenue drop shows in ROAS.
      const rev = campRev[i]!;
      const base = Number.isNaN(revEma[i]!) ? rev : revEma[i]!;
      revEma[i] = Number.isNaN(revEma[i]!) ? rev : 0.7 * revEma[i]! + 0.3 * rev;
      const partial = day === lastDay && D > 1 ? 0.35 : 1;
      let cents = c.hasUsers
        ? Math.round(((Math.max(base, 500) * partial) / c.roasTarget) * (0.9 + rnd() * 0.2))
        : Math.round(paidTotal * (0.08 + rnd() * 0.04));
      if (day === d1 && i === spikeCamp) cents *= 4;
      paidTotal += cents;
      if (day !== d1 && rnd() < 0.05) return; // a missing cost day: ROAS null
      const date = day === firstDay + Math.floor(D / 3) && i === 0 ? dayString(day).replace(/-/g, "/") : dayString(day); // bad_time
      const parts = rnd() < 0.1 ? [Math.floor(cents * 0.6), cents - Math.floor(cents * 0.6)] : [cents];
      for (const p of parts) {
        const r = rnd();
        const style = r < 0.8 ? 0 : r < 0.88 ? 1 : p >= 100000 ? (r < 0.94 ? 2 : 3) : 0;
        const clicks = Math.round(p / (40 + rnd() * 80));
        K.line(
          `${date},${variant(i)},${c.mediaSource},${fmtMoney(p, style)},${clicks * 40 + Math.floor(rnd() * 900)},${clicks}`,
        );
      }
      if (day === firstDay + Math.floor((2 * D) / 3) && i === 0)
        K.line(`${dayString(day)},${variant(i)},${c.mediaSource},N/A,0,0`); // bad_number
    });
  }

  for (const w of writers) await w.close();
  const seconds = (performance.now() - t0) / 1000;
  const files: Record<string, number> = {};
  for (const w of writers) files[w.path] = w.rows;
  return { rows: writers.reduce((a, w) => a + w.rows, 0), seconds, files };
}

if (import.meta.main) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const r = await generate(o);
    if (!o.quiet) {
      for (const [f, n] of Object.entries(r.files)) process.stderr.write(`${f}: ${n} rows\n`);
      const rate = Math.round(r.rows / Math.max(r.seconds, 1e-6));
      console.log(
        `generated ${o.purchases} purchases (${r.rows} rows in 4 files) in ${r.seconds.toFixed(2)} s, ${rate} rows/s, seed ${o.seed}`,
      );
    }
  } catch (e) {
    console.error(`gen-data: ${(e as Error).message}`);
    process.exit(2);
  }
}
