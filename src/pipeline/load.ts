/**
 * Parse + normalise one input file into a columnar table (SPEC 4 inputs and 4.1 validity).
 * Every row is checked for unparseable values before any filter; a bad row is counted once,
 * under its first bad column in file order, and takes no part in anything after.
 */
import { PipelineInputError } from "./errors.ts";
import { F64Builder, hashString, Interner, renormalise, StringColumnBuilder, U32Builder, U8Builder } from "./columns.ts";
import { chargedRows } from "./chargebacks.ts";
import { normaliseCampaign, normaliseKeyword, parseDate, parseMoney, parseTime, SECONDS_PER_DAY } from "./normalise.ts";
import { resolveColumns, streamCsv } from "./parse.ts";
import {
  EVENT_PURCHASE,
  FILES,
  STATUS_CHARGEBACK,
  STATUS_SUCCESS,
  type BadReason,
  type ConfirmedTable,
  type CostsTable,
  type FileKind,
  type FileQuality,
  type LoadOptions,
  type Loaded,
  type PurchasesTable,
  type SessionsTable,
} from "./tables.ts";

export * from "./tables.ts";

function newQuality(): FileQuality {
  return { rows: 0, skipped: 0, bad_time: 0, bad_number: 0 };
}

function skip(q: FileQuality, reason: BadReason, line: number, column: string): void {
  q.skipped++;
  q[reason]++;
  q.firstBad ??= { line, column, reason };
}

/** Which of two checked columns comes first in the file decides the reason of a doubly-bad row. */
function firstOf(
  a: { bad: boolean; at: number; reason: BadReason; name: string },
  b: { bad: boolean; at: number; reason: BadReason; name: string },
): { reason: BadReason; name: string } {
  if (a.bad && (!b.bad || a.at < b.at)) return a;
  return b;
}

const cell = (row: string[], at: number): string => row[at] ?? "";

/** Caches a function of low-cardinality cell values (status, event_name): no per-row trim/lower-case. */
function cached(fn: (raw: string) => number): (raw: string) => number {
  const memo = new Map<string, number>();
  return (raw) => {
    let v = memo.get(raw);
    if (v === undefined) {
      v = fn(raw);
      if (memo.size < 1024) memo.set(raw, v); // garbage values must not grow it without bound
    }
    return v;
  };
}

function statusFlag(raw: string): number {
  const k = normaliseKeyword(raw);
  return k === "success" ? STATUS_SUCCESS : k === "chargeback" ? STATUS_CHARGEBACK : 0;
}

function eventFlag(raw: string): number {
  return normaliseKeyword(raw) === "purchase" ? EVENT_PURCHASE : 0;
}

/** Reads purchases_raw.csv. */
export async function loadPurchases(path: string, options: LoadOptions = {}): Promise<Loaded<PurchasesTable>> {
  const file = FILES.purchases;
  const q = newQuality();
  const line = new F64Builder(), time = new F64Builder(), revenue = new F64Builder(), flags = new U8Builder();
  const afid = new StringColumnBuilder(), receipt = new StringColumnBuilder(), afidHash = new U32Builder(), campaign = new U32Builder();
  const campaigns = new Interner();
  const chargebackReceipts = new Set<string>();
  const status = cached(statusFlag), event = cached(eventFlag);
  let c!: Record<"appsflyer_id" | "event_name" | "event_time_utc" | "revenue_usd" | "campaign" | "receipt_id" | "status", number>;
  await streamCsv({
    path,
    file,
    onProgress: options.onProgress,
    onHeader: (header, at) => {
      c = resolveColumns(file, header, at, ["appsflyer_id", "event_name", "event_time_utc", "revenue_usd", "campaign", "receipt_id", "status"]);
    },
    onRows: (rows, lines) => {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        q.rows++;
        const st = status(cell(row, c.status));
        const t = parseTime(cell(row, c.event_time_utc));
        const revText = cell(row, c.revenue_usd);
        const rev = parseMoney(revText);
        const timeBad = t !== t;
        // a chargeback export often carries no revenue: its receipt still counts
        const revBad = rev !== rev && !(st === STATUS_CHARGEBACK && revText.trim() === "");
        if (timeBad || revBad) {
          const bad = firstOf(
            { bad: timeBad, at: c.event_time_utc, reason: "bad_time", name: "event_time_utc" },
            { bad: revBad, at: c.revenue_usd, reason: "bad_number", name: "revenue_usd" },
          );
          skip(q, bad.reason, lines[r]!, bad.name);
          continue;
        }
        const id = cell(row, c.appsflyer_id), rc = cell(row, c.receipt_id);
        line.push(lines[r]!);
        flags.push(st | event(cell(row, c.event_name)));
        time.push(t);
        revenue.push(rev);
        afid.push(id);
        afidHash.push(hashString(id));
        campaign.push(campaigns.code(cell(row, c.campaign)));
        receipt.push(rc);
        if (st === STATUS_CHARGEBACK && rc !== "") chargebackReceipts.add(rc);
      }
      afid.seal();
      receipt.seal();
    },
  });
  const campaignCodes = campaign.finish();
  const receipts = receipt.finish();
  const table: PurchasesTable = {
    kind: "purchases",
    n: line.length,
    line: line.finish(),
    afid: afid.finish(),
    afidHash: new Int32Array(afidHash.finish().buffer),
    flags: flags.finish(),
    time: time.finish(),
    revenue: revenue.finish(),
    campaign: campaignCodes,
    campaignDict: renormalise(campaignCodes, campaigns.values, normaliseCampaign),
    receipt: receipts,
    charged: chargedRows(receipts, chargebackReceipts),
  };
  return { table, quality: q, usable: table.n };
}

/** Reads confirmed_purchases.csv (event_name and campaign, when present, are not used). */
export async function loadConfirmed(path: string, options: LoadOptions = {}): Promise<Loaded<ConfirmedTable>> {
  const file = FILES.confirmed;
  const q = newQuality();
  const line = new F64Builder(), time = new F64Builder(), revenue = new F64Builder();
  const afid = new StringColumnBuilder(), receipt = new StringColumnBuilder(), afidHash = new U32Builder();
  let c!: Record<"appsflyer_id" | "event_time_utc" | "revenue_usd" | "receipt_id", number>;
  await streamCsv({
    path,
    file,
    onProgress: options.onProgress,
    onHeader: (header, at) => {
      c = resolveColumns(file, header, at, ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id"]);
    },
    onRows: (rows, lines) => {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        q.rows++;
        const t = parseTime(cell(row, c.event_time_utc));
        const rev = parseMoney(cell(row, c.revenue_usd));
        if (t !== t || rev !== rev) {
          const bad = firstOf(
            { bad: t !== t, at: c.event_time_utc, reason: "bad_time", name: "event_time_utc" },
            { bad: rev !== rev, at: c.revenue_usd, reason: "bad_number", name: "revenue_usd" },
          );
          skip(q, bad.reason, lines[r]!, bad.name);
          continue;
        }
        const id = cell(row, c.appsflyer_id);
        line.push(lines[r]!);
        time.push(t);
        revenue.push(rev);
        afid.push(id);
        afidHash.push(hashString(id));
        receipt.push(cell(row, c.receipt_id));
      }
      afid.seal();
      receipt.seal();
    },
  });
  const table: ConfirmedTable = {
    kind: "confirmed",
    n: line.length,
    line: line.finish(),
    afid: afid.finish(),
    afidHash: new Int32Array(afidHash.finish().buffer),
    time: time.finish(),
    revenue: revenue.finish(),
    receipt: receipt.finish(),
  };
  return { table, quality: q, usable: table.n };
}

/** Reads costs_daily.csv. */
export async function loadCosts(path: string, options: LoadOptions = {}): Promise<Loaded<CostsTable>> {
  const file = FILES.costs;
  const q = newQuality();
  const day = new F64Builder(), cost = new F64Builder(), campaign = new U32Builder();
  const campaigns = new Interner();
  let c!: Record<"date" | "campaign" | "ad_cost_usd", number>;
  await streamCsv({
    path,
    file,
    onProgress: options.onProgress,
    onHeader: (header, at) => {
      c = resolveColumns(file, header, at, ["date", "campaign", "ad_cost_usd"]);
    },
    onRows: (rows, lines) => {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        q.rows++;
        const d = parseDate(cell(row, c.date));
        const v = parseMoney(cell(row, c.ad_cost_usd));
        if (d !== d || v !== v) {
          const bad = firstOf(
            { bad: d !== d, at: c.date, reason: "bad_time", name: "date" },
            { bad: v !== v, at: c.ad_cost_usd, reason: "bad_number", name: "ad_cost_usd" },
          );
          skip(q, bad.reason, lines[r]!, bad.name);
          continue;
        }
        day.push(d);
        cost.push(v);
        campaign.push(campaigns.code(cell(row, c.campaign)));
      }
    },
  });
  const codes = campaign.finish();
  const table: CostsTable = {
    kind: "costs",
    n: day.length,
    day: day.finish(),
    campaign: codes,
    campaignDict: renormalise(codes, campaigns.values, normaliseCampaign),
    cost: cost.finish(),
  };
  return { table, quality: q, usable: table.n };
}

/** Reads sessions.csv: the timestamp column wins over the date column when both exist. */
export async function loadSessions(path: string, options: LoadOptions = {}): Promise<Loaded<SessionsTable>> {
  const file = FILES.sessions;
  const q = newQuality();
  const day = new F64Builder(), user = new StringColumnBuilder(), campaign = new U32Builder();
  const campaigns = new Interner();
  let userAt = -1, timeAt = -1, campaignAt = -1;
  let timeName = "";
  let usable = 0;
  const only = options.onlyDay;
  await streamCsv({
    path,
    file,
    onProgress: options.onProgress,
    onHeader: (header, at) => {
      const c = resolveColumns(file, header, at, ["user_id"], ["event_timestamp_utc", "date", "campaign"]);
      if (c.event_timestamp_utc === -1 && c.date === -1) {
        throw new PipelineInputError(file, at, "event_timestamp_utc", `missing required column "event_timestamp_utc" or "date" (header: ${header.join(",")})`);
      }
      userAt = c.user_id;
      campaignAt = c.campaign;
      timeName = c.event_timestamp_utc !== -1 ? "event_timestamp_utc" : "date";
      timeAt = c[timeName as "date"];
    },
    onRows: (rows, lines) => {
      const isTimestamp = timeName === "event_timestamp_utc";
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        q.rows++;
        const raw = cell(row, timeAt);
        const d = isTimestamp ? Math.floor(parseTime(raw) / SECONDS_PER_DAY) : parseDate(raw);
        if (d !== d) {
          skip(q, "bad_time", lines[r]!, timeName);
          continue;
        }
        usable++;
        if (only !== undefined && d !== only) continue;
        day.push(d);
        user.push(cell(row, userAt));
        if (campaignAt !== -1) campaign.push(campaigns.code(cell(row, campaignAt)));
      }
      user.seal();
    },
  });
  const codes = campaignAt === -1 ? null : campaign.finish();
  const table: SessionsTable = {
    kind: "sessions",
    n: day.length,
    day: day.finish(),
    user: user.finish(),
    campaign: codes,
    campaignDict: codes ? renormalise(codes, campaigns.values, normaliseCampaign) : null,
  };
  return { table, quality: q, usable };
}

/** Loads one file by kind. */
export function loadFile(kind: FileKind, path: string, options: LoadOptions = {}): Promise<Loaded> {
  switch (kind) {
    case "purchases":
      return loadPurchases(path, options);
    case "confirmed":
      return loadConfirmed(path, options);
    case "costs":
      return loadCosts(path, options);
    case "sessions":
      return loadSessions(path, options);
  }
}
