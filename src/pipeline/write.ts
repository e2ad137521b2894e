/**
 * The two big outputs, purchases_curated.csv and reconciliation.json, formatted in row ranges
 * ("chunks") that can render on the worker pool in parallel, then written in order. A chunk is
 * plain data (typed arrays and string columns), rendered to UTF-8 bytes where it runs.
 */
import { open } from "node:fs/promises";
import { strAt, type StringColumn } from "./columns.ts";
import type { Curated } from "./curate.ts";
import { usdText } from "./exact.ts";
import type { ConfirmedTable, PurchasesTable } from "./load.ts";
import { formatMicro, formatTime } from "./normalise.ts";
import { AF_ONLY, CONFIRMED_ONLY, MATCHED, type Details } from "./reconcile.ts";

/** A CSV field per RFC 4180: quoted only when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

/** Value i of a string column as a CSV field (a plain column needs no per-value check). */
function csvAt(col: StringColumn, i: number): string {
  return col.plain ? strAt(col, i) : csvField(strAt(col, i));
}

/** Value i of a string column as a JSON string literal. */
function jsonAt(col: StringColumn, i: number): string {
  return col.plain ? '"' + strAt(col, i) + '"' : JSON.stringify(strAt(col, i));
}

export const CURATED_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback\n";

/** Curated rows [from, to) with the purchases columns they read. */
export interface CuratedChunk {
  kind: "curated";
  afid: StringColumn;
  receipt: StringColumn;
  time: Float64Array;
  campaign: Uint32Array;
  campaignDict: string[];
  rows: Uint32Array;
  revenue: Float64Array;
  chargeback: Uint8Array;
}

/** One side's columns as the detail lines read them; revenue is after chargebacks on the AF side. */
export interface DetailSide {
  afid: StringColumn;
  receipt: StringColumn;
  time: Float64Array;
  revenue: Float64Array;
}

/** Details [from, to) with both sides' columns; `first` = the chunk that opens the array. */
export interface DetailsChunk {
  kind: "details";
  type: Uint8Array;
  afRow: Int32Array;
  confRow: Int32Array;
  af: DetailSide;
  conf: DetailSide;
  first: boolean;
}

export type Chunk = CuratedChunk | DetailsChunk;

/** CSV lines of a curated chunk: revenue as its exact decimal, times canonical, chargeback true/false. */
export function curatedText(ch: CuratedChunk): string {
  const campaigns = ch.campaignDict.map(csvField); // escaped once per campaign, not per row
  const lines: string[] = new Array(ch.rows.length);
  for (let j = 0; j < ch.rows.length; j++) {
    const i = ch.rows[j]!;
    lines[j] =
      csvAt(ch.afid, i) + ",purchase," + formatTime(ch.time[i]!) + "," + formatMicro(ch.revenue[j]!) + "," +
      campaigns[ch.campaign[i]!] + "," + csvAt(ch.receipt, i) + (ch.chargeback[j] ? ",true\n" : ",false\n");
  }
  return lines.join("");
}

/**
 * One flat detail as compact JSON, keys in SPEC order, an absent side left out: the text
 * JSON.stringify would give for the object, built directly because there is one per row.
 */
export function detailJson(ch: DetailsChunk, k: number): string {
  const type = ch.type[k]!, ar = ch.afRow[k]!, cr = ch.confRow[k]!, af = ch.af, c = ch.conf;
  if (type === CONFIRMED_ONLY) {
    return `{"type":"confirmed_only","appsflyer_id":${jsonAt(c.afid, cr)},"confirmed_event_time_utc":"${formatTime(c.time[cr]!)}",` +
      `"confirmed_revenue_usd":${usdText(c.revenue[cr]!)},"confirmed_receipt_id":${jsonAt(c.receipt, cr)}}`;
  }
  const afRevenue = af.revenue[ar]!;
  const head = `{"type":"${type === MATCHED ? "matched" : "af_only"}","appsflyer_id":${jsonAt(af.afid, ar)},` +
    `"af_event_time_utc":"${formatTime(af.time[ar]!)}","af_revenue_usd":${usdText(afRevenue)},"af_receipt_id":${jsonAt(af.receipt, ar)}`;
  if (type === AF_ONLY) return head + "}";
  return head + `,"confirmed_event_time_utc":"${formatTime(c.time[cr]!)}","confirmed_revenue_usd":${usdText(c.revenue[cr]!)},` +
    `"confirmed_receipt_id":${jsonAt(c.receipt, cr)},"delta_seconds":${af.time[ar]! - c.time[cr]!},` +
    `"revenue_diff_usd":${usdText(afRevenue - c.revenue[cr]!)}}`;
}

/** The detail lines of a chunk, each on its own line inside the details array. */
export function detailsText(ch: DetailsChunk): string {
  const lines: string[] = new Array(ch.type.length);
  for (let k = 0; k < lines.length; k++) lines[k] = (k === 0 && ch.first ? "\n    " : ",\n    ") + detailJson(ch, k);
  return lines.join("");
}

/** Renders a chunk to UTF-8 (fresh buffer, so it can be transferred). */
export function renderChunk(ch: Chunk): Uint8Array {
  return new TextEncoder().encode(ch.kind === "curated" ? curatedText(ch) : detailsText(ch));
}

/** Rows per chunk: a few chunks per thread for balance, not so small that column copies dominate. */
export function chunkSize(n: number, threads: number): number {
  return Math.max(50_000, Math.ceil(n / (threads * 2)));
}

/** Splits the curated rows into chunks (ranges are copies: a view would ship its whole buffer). */
export function curatedChunks(p: PurchasesTable, curated: Curated, size: number): CuratedChunk[] {
  const out: CuratedChunk[] = [];
  for (let a = 0; a < curated.n; a += size) {
    const b = Math.min(curated.n, a + size);
    out.push({
      kind: "curated", afid: p.afid, receipt: p.receipt, time: p.time, campaign: p.campaign, campaignDict: p.campaignDict,
      rows: curated.rows.slice(a, b), revenue: curated.revenue.slice(a, b), chargeback: curated.chargeback.slice(a, b),
    });
  }
  return out;
}

/** Splits the details into chunks; AF revenue is looked up by purchases row after chargebacks. */
export function detailChunks(p: PurchasesTable, curated: Curated, c: ConfirmedTable, d: Details, size: number): DetailsChunk[] {
  const afRevenue = new Float64Array(p.n);
  for (let j = 0; j < curated.n; j++) afRevenue[curated.rows[j]!] = curated.revenue[j]!;
  const af: DetailSide = { afid: p.afid, receipt: p.receipt, time: p.time, revenue: afRevenue };
  const conf: DetailSide = { afid: c.afid, receipt: c.receipt, time: c.time, revenue: c.revenue };
  const out: DetailsChunk[] = [];
  for (let a = 0; a < d.type.length; a += size) {
    const b = Math.min(d.type.length, a + size);
    out.push({ kind: "details", type: d.type.slice(a, b), afRow: d.afRow.slice(a, b), confRow: d.confRow.slice(a, b), af, conf, first: a === 0 });
  }
  return out;
}

/**
 * Writes head, the rendered chunks in order, then tail. At most `window` chunks render at once
 * (bounded memory); each is written as soon as it and all before it are done.
 */
export async function writeChunks(path: string, head: string, tail: string, chunks: Chunk[], render: (ch: Chunk) => Promise<Uint8Array>, window: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.write(head);
    const pending: Promise<Uint8Array>[] = [];
    let next = 0;
    const fill = () => {
      while (next < chunks.length && pending.length < window) {
        const rendering = render(chunks[next++]!);
        rendering.catch(() => {}); // a failure surfaces when its turn is awaited; no unhandled rejection meanwhile
        pending.push(rendering);
      }
    };
    fill();
    while (pending.length > 0) {
      const bytes = await pending.shift()!;
      fill();
      await fh.write(bytes);
    }
    await fh.write(tail);
  } finally {
    await fh.close();
  }
}
