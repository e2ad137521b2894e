/**
 * Output formatting (SPEC 4 rules 5, 6, 8-11 and 4.1 "Outputs"): exact values rounded half away
 * from zero once, USD to 2 decimals and ratios to 6; fixed key order; big files streamed.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { ArpdauRow } from "./arpdau.ts";
import type { Curated } from "./curate.ts";
import { ratio, roundRatio, usd, type Ratio } from "./exact.ts";
import { strAt, type StringColumn } from "./columns.ts";
import type { ConfirmedTable, PurchasesTable } from "./load.ts";
import { formatDate, formatMicro, formatTime, MICRO } from "./normalise.ts";
import { AF_ONLY, CONFIRMED_ONLY, MATCHED, type Details, type ReconSummary } from "./reconcile.ts";
import { roasOf, type Anomaly, type DailyRow } from "./roas.ts";

/** Buffered text writer: batches small strings into ~1 MiB writes. */
export class TextSink {
  private parts: string[] = [];
  private size = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string): Promise<TextSink> {
    return new TextSink(await open(path, "w"));
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    await this.fh.write(text);
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }
}

/** A CSV field per RFC 4180: quoted only when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

/** Value i of a string column as a CSV field (one check per column, not per value, when it is plain). */
function csvAt(col: StringColumn, i: number): string {
  return col.plain ? strAt(col, i) : csvField(strAt(col, i));
}

/** Value i of a string column as a JSON string literal. */
function jsonAt(col: StringColumn, i: number): string {
  return col.plain ? '"' + strAt(col, i) + '"' : JSON.stringify(strAt(col, i));
}

/** Pretty JSON with a trailing newline (the small outputs). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** A ratio rounded to 6 decimals, or null. */
export function ratioOut(x: Ratio | null): number | null {
  return x === null ? null : roundRatio(x, 6);
}

const CURATED_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback\n";

/** purchases_curated.csv: rows in curated order, revenue as its exact decimal, chargeback true/false. */
export async function writeCuratedCsv(path: string, p: PurchasesTable, curated: Curated): Promise<void> {
  const sink = await TextSink.create(path);
  try {
    await sink.write(CURATED_HEADER);
    const campaigns = p.campaignDict.map(csvField); // escaped once per campaign, not per row
    let batch = "";
    for (let j = 0; j < curated.n; j++) {
      const i = curated.rows[j]!;
      batch +=
        csvAt(p.afid, i) + ",purchase," + formatTime(p.time[i]!) + "," + formatMicro(curated.revenue[j]!) + "," +
        campaigns[p.campaign[i]!] + "," + csvAt(p.receipt, i) + (curated.chargeback[j] ? ",true\n" : ",false\n");
      if (batch.length >= 1 << 16) {
        await sink.write(batch);
        batch = "";
      }
    }
    await sink.write(batch);
  } finally {
    await sink.close();
  }
}

/** The reconciliation summary object, keys in SPEC order, USD rounded to cents. */
export function reconciliationSummary(r: ReconSummary): Record<string, number> {
  return {
    matched: r.matched,
    af_only: r.afOnly,
    confirmed_only: r.confirmedOnly,
    matched_revenue_usd: usd(r.matchedMicro),
    af_only_revenue_usd: usd(r.afOnlyMicro),
    confirmed_only_revenue_usd: usd(r.confirmedOnlyMicro),
    revenue_mismatches: r.revenueMismatches,
  };
}

const json = JSON.stringify;

/**
 * One flat detail as compact JSON, keys in SPEC order, an absent side left out. Built as text
 * (what JSON.stringify of the object would give) because there is one per row.
 */
export function detailJson(d: Details, k: number, p: PurchasesTable, curated: Curated, pos: Int32Array, c: ConfirmedTable): string {
  const type = d.type[k]!, ar = d.afRow[k]!, cr = d.confRow[k]!;
  if (type === CONFIRMED_ONLY) {
    return `{"type":"confirmed_only","appsflyer_id":${jsonAt(c.afid, cr)},"confirmed_event_time_utc":"${formatTime(c.time[cr]!)}",` +
      `"confirmed_revenue_usd":${usd(c.revenue[cr]!)},"confirmed_receipt_id":${jsonAt(c.receipt, cr)}}`;
  }
  const afRevenue = curated.revenue[pos[ar]!]!;
  let text = `{"type":"${type === MATCHED ? "matched" : "af_only"}","appsflyer_id":${jsonAt(p.afid, ar)},` +
    `"af_event_time_utc":"${formatTime(p.time[ar]!)}","af_revenue_usd":${usd(afRevenue)},"af_receipt_id":${jsonAt(p.receipt, ar)}`;
  if (type === AF_ONLY) return text + "}";
  text += `,"confirmed_event_time_utc":"${formatTime(c.time[cr]!)}","confirmed_revenue_usd":${usd(c.revenue[cr]!)},` +
    `"confirmed_receipt_id":${jsonAt(c.receipt, cr)},"delta_seconds":${p.time[ar]! - c.time[cr]!},` +
    `"revenue_diff_usd":${usd(afRevenue - c.revenue[cr]!)}}`;
  return text;
}

/** reconciliation.json, streamed: pretty top level, one compact detail object per line. */
export async function writeReconciliationJson(
  path: string,
  toleranceMinutes: number,
  summary: ReconSummary,
  d: Details,
  p: PurchasesTable,
  curated: Curated,
  pos: Int32Array,
  c: ConfirmedTable,
): Promise<void> {
  const sink = await TextSink.create(path);
  try {
    const head = JSON.stringify(reconciliationSummary(summary), null, 2).replace(/\n/g, "\n  ");
    await sink.write(`{\n  "tolerance_minutes": ${json(toleranceMinutes)},\n  "summary": ${head},\n  "details": [`);
    const n = d.type.length;
    let batch = "";
    for (let k = 0; k < n; k++) {
      batch += (k === 0 ? "\n    " : ",\n    ") + detailJson(d, k, p, curated, pos, c);
      if (batch.length >= 1 << 16) {
        await sink.write(batch);
        batch = "";
      }
    }
    await sink.write(batch + (n === 0 ? "]\n}\n" : "\n  ]\n}\n"));
  } finally {
    await sink.close();
  }
}

/** roas_d1.json rows. */
export function roasD1Json(rows: DailyRow[]): { date: string; campaign: string; revenue_usd: number; ad_cost_usd: number | null; roas: number | null }[] {
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
