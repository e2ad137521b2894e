/**
 * The two big outputs, purchases_curated.csv and reconciliation.json, formatted in row ranges
 * ("chunks") that render on the worker pool in parallel, then are written in order. A chunk is
 * plain data (typed arrays and byte-string columns, shared memory when the tables are), rendered
 * straight to UTF-8 bytes where it runs: ids are copied as bytes (escaped only where needed),
 * numbers and times are written digit by digit. The text is the same as formatting each value as
 * a string (csvField, JSON.stringify, formatTime, formatMicro, usdText) and encoding the result.
 */
import { open } from "node:fs/promises";
import type { BytesColumn } from "./columns.ts";
import type { Curated } from "./curate.ts";
import { usd } from "./exact.ts";
import type { ConfirmedTable, PurchasesTable } from "./load.ts";
import { formatDate, MICRO, SECONDS_PER_DAY } from "./normalise.ts";
import { AF_ONLY, CONFIRMED_ONLY, MATCHED, type Details } from "./reconcile.ts";

/** A CSV field per RFC 4180: quoted only when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

export const CURATED_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback\n";

/** Curated rows [from, to) with the purchases columns they read. */
export interface CuratedChunk {
  kind: "curated";
  afid: BytesColumn;
  receipt: BytesColumn;
  time: Float64Array;
  campaign: Uint32Array;
  campaignDict: string[];
  rows: Uint32Array;
  revenue: Float64Array;
  chargeback: Uint8Array;
}

/** One side's columns as the detail lines read them; revenue is after chargebacks on the AF side. */
export interface DetailSide {
  afid: BytesColumn;
  receipt: BytesColumn;
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

const encoder = new TextEncoder();
const ascii = (s: string) => encoder.encode(s);

/** Growable output bytes; `room(n)` before writing up to n bytes by hand at `at`. */
class Out {
  buf: Uint8Array;
  at = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(1024, capacity));
  }
  room(n: number): Uint8Array {
    if (this.at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(Math.ceil(this.buf.length * 1.5), this.at + n));
      next.set(this.buf.subarray(0, this.at));
      this.buf = next;
    }
    return this.buf;
  }
  /** The written bytes (a view: the spare capacity goes along, and is freed with the chunk). */
  done(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
}

function put(buf: Uint8Array, at: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) buf[at + i] = src[i]!;
  return at + src.length;
}

/** Decimal digits of a non-negative integer < 2^53 (what String(v) prints). */
function putUint(buf: Uint8Array, at: number, v: number): number {
  if (v < 10) {
    buf[at] = 48 + v;
    return at + 1;
  }
  if (v < 2147483648) {
    // 32-bit integer maths (the common case: dollars, cents, seconds)
    let x = v | 0;
    const digits = x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7 : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10;
    for (let i = at + digits - 1; i >= at; i--) {
      const q = (x / 10) | 0;
      buf[i] = 48 + x - q * 10;
      x = q;
    }
    return at + digits;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = v;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(x / 10);
    buf[i] = 48 + (x - q * 10);
    x = q;
  }
  return at + digits;
}

/** Exact decimal text of integer micro-dollars (formatMicro): 4990000 -> "4.99", 0 -> "0". */
function putMicro(buf: Uint8Array, at: number, micro: number): number {
  if ((micro | 0) === micro) {
    // 32-bit integer maths (no float division or modulo on the common path)
    let m = micro | 0;
    if (m < 0) {
      buf[at++] = 45;
      m = -m;
    }
    const whole = (m / 1000000) | 0;
    let frac = m - whole * 1000000;
    at = putUint(buf, at, whole);
    if (frac !== 0) {
      buf[at++] = 46;
      let scale = 100000;
      while (frac !== 0) {
        const d = (frac / scale) | 0;
        buf[at++] = 48 + d;
        frac -= d * scale;
        scale = (scale / 10) | 0;
      }
    }
    return at;
  }
  const negative = micro < 0;
  const abs = negative ? -micro : micro;
  const whole = Math.floor(abs / MICRO);
  let frac = abs - whole * MICRO;
  if (negative) buf[at++] = 45;
  at = putUint(buf, at, whole);
  if (frac !== 0) {
    buf[at++] = 46;
    let scale = MICRO / 10;
    while (frac !== 0) {
      const d = Math.floor(frac / scale);
      buf[at++] = 48 + d;
      frac -= d * scale;
      scale /= 10;
    }
  }
  return at;
}

/** JSON number of usd(micro) (usdText): "4.99", "5", "0.1", "-0.01". */
function putUsd(buf: Uint8Array, at: number, micro: number): number {
  let cents: number, negative: boolean;
  if ((micro | 0) === micro) {
    // |micro| < 2^31: usd()'s rounding in 32-bit integer maths
    let m = micro | 0;
    negative = m < 0;
    if (negative) m = -m;
    let c = (m / 10000) | 0;
    if ((m - c * 10000) * 2 >= 10000) c++;
    cents = c;
    negative = negative && c !== 0;
  } else {
    const value = usd(micro);
    cents = Math.round(Math.abs(value) * 100);
    negative = value < 0;
  }
  const whole = Math.floor(cents / 100), frac = cents - whole * 100;
  if (negative) buf[at++] = 45;
  at = putUint(buf, at, whole);
  if (frac !== 0) {
    buf[at++] = 46;
    const tens = (frac / 10) | 0, ones = frac - tens * 10;
    buf[at++] = 48 + tens;
    if (ones !== 0) buf[at++] = 48 + ones;
  }
  return at;
}

/** A signed integer (delta seconds). */
function putInt(buf: Uint8Array, at: number, v: number): number {
  if (v < 0) {
    buf[at++] = 45;
    v = -v;
  }
  return putUint(buf, at, v);
}

/** Canonical `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds (formatTime); the date text is cached per day. */
class Times {
  private base = NaN;
  private readonly near: (Uint8Array | undefined)[] = new Array(8192);
  private readonly far = new Map<number, Uint8Array>();
  private dateOf(day: number): Uint8Array {
    if (this.base !== this.base) this.base = day - 4096;
    const k = day - this.base;
    if (k >= 0 && k < 8192) return (this.near[k] ??= ascii(formatDate(day) + "T"));
    let t = this.far.get(day);
    if (!t) this.far.set(day, (t = ascii(formatDate(day) + "T")));
    return t;
  }
  put(buf: Uint8Array, at: number, seconds: number): number {
    const day = Math.floor(seconds / SECONDS_PER_DAY);
    at = put(buf, at, this.dateOf(day));
    const s = (seconds - day * SECONDS_PER_DAY) | 0; // 0..86399
    const h = (s / 3600) | 0, rest = s - h * 3600, m = (rest / 60) | 0, sec = rest - m * 60;
    const h1 = (h / 10) | 0, m1 = (m / 10) | 0, s1 = (sec / 10) | 0;
    buf[at] = 48 + h1;
    buf[at + 1] = 48 + h - h1 * 10;
    buf[at + 2] = 58;
    buf[at + 3] = 48 + m1;
    buf[at + 4] = 48 + m - m1 * 10;
    buf[at + 5] = 58;
    buf[at + 6] = 48 + s1;
    buf[at + 7] = 48 + sec - s1 * 10;
    buf[at + 8] = 90;
    return at + 9;
  }
}

/** Bytes a CSV field must be quoted for: , " CR LF. */
const CSV_SPECIAL = new Uint8Array(256);
for (const c of [44, 34, 13, 10]) CSV_SPECIAL[c] = 1;

/** JSON escapes (JSON.stringify): 0 = as is; 1 = \uXXXX; else the letter after the backslash. */
const JSON_ESCAPE = new Uint8Array(256);
for (let c = 0; c < 32; c++) JSON_ESCAPE[c] = 1;
JSON_ESCAPE[8] = 98; // \b
JSON_ESCAPE[9] = 116; // \t
JSON_ESCAPE[10] = 110; // \n
JSON_ESCAPE[12] = 102; // \f
JSON_ESCAPE[13] = 114; // \r
JSON_ESCAPE[34] = 34; // \"
JSON_ESCAPE[92] = 92; // \\
const HEX = ascii("0123456789abcdef");


const T_PURCHASE = ascii(",purchase,");
const T_TRUE = ascii(",true\n");
const T_FALSE = ascii(",false\n");

/**
 * Rows are rendered in batches: first every value a batch reads is gathered into small dense
 * arrays, one column at a time (independent loads: the CPU overlaps their cache misses), and the
 * id bytes are touched so they are in cache; then the batch is written from those arrays. Rows
 * come in output order, which is random in the tables: gathering first is several times faster
 * than chasing each row's values one after another.
 */
const BATCH = 256;

/** Dense per-batch copies of one side's values. */
class Gathered {
  readonly idS = new Int32Array(BATCH);
  readonly idE = new Int32Array(BATCH);
  readonly rcS = new Int32Array(BATCH);
  readonly rcE = new Int32Array(BATCH);
  readonly time = new Float64Array(BATCH);
  readonly revenue = new Float64Array(BATCH);
  touched = 0;
  /** rows[from..to) (-1 = none) of a side; revenue by table row when `revenue` is given. */
  gather(rows: ArrayLike<number>, from: number, to: number, ids: BytesColumn, receipts: BytesColumn, time: Float64Array, revenue: Float64Array | null): void {
    const io = ids.offsets, ro = receipts.offsets;
    for (let k = from; k < to; k++) {
      const r = rows[k]!;
      if (r < 0) continue;
      this.idS[k - from] = io[r]!;
      this.idE[k - from] = io[r + 1]!;
    }
    for (let k = from; k < to; k++) {
      const r = rows[k]!;
      if (r < 0) continue;
      this.rcS[k - from] = ro[r]!;
      this.rcE[k - from] = ro[r + 1]!;
    }
    for (let k = from; k < to; k++) {
      const r = rows[k]!;
      if (r >= 0) this.time[k - from] = time[r]!;
    }
    if (revenue) {
      for (let k = from; k < to; k++) {
        const r = rows[k]!;
        if (r >= 0) this.revenue[k - from] = revenue[r]!;
      }
    }
    // pull the id bytes into cache
    const ib = ids.bytes, rb = receipts.bytes;
    let x = 0;
    for (let k = from; k < to; k++) if (rows[k]! >= 0) x ^= ib[this.idS[k - from]!]! ^ rb[this.rcS[k - from]!]!;
    this.touched ^= x;
  }
}

/** Bytes [s, e) of src as a CSV field (csvField). */
function putCsv(buf: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  const start = at;
  for (let j = s; j < e; j++) {
    const b = src[j]!;
    if (CSV_SPECIAL[b] === 1) {
      // quote it: rewrite from the start, doubling quotes
      at = start;
      buf[at++] = 34;
      for (let k = s; k < e; k++) {
        const c = src[k]!;
        buf[at++] = c;
        if (c === 34) buf[at++] = 34;
      }
      buf[at++] = 34;
      return at;
    }
    buf[at++] = b;
  }
  return at;
}

/** Bytes [s, e) of src as a JSON string literal (JSON.stringify of the decoded string). */
function putJson(buf: Uint8Array, at: number, src: Uint8Array, s: number, e: number): number {
  buf[at++] = 34;
  for (let j = s; j < e; j++) {
    const b = src[j]!;
    const esc = JSON_ESCAPE[b]!;
    if (esc === 0) buf[at++] = b;
    else if (esc === 1) {
      buf[at] = 92;
      buf[at + 1] = 117;
      buf[at + 2] = 48;
      buf[at + 3] = 48;
      buf[at + 4] = HEX[b >> 4]!;
      buf[at + 5] = HEX[b & 15]!;
      at += 6;
    } else {
      buf[at] = 92;
      buf[at + 1] = esc;
      at += 2;
    }
  }
  buf[at++] = 34;
  return at;
}

/** CSV lines of a curated chunk: revenue as its exact decimal, times canonical, chargeback true/false. */
export function curatedBytes(ch: CuratedChunk): Uint8Array {
  const campaigns = ch.campaignDict.map((c) => ascii(csvField(c))); // escaped once per campaign, not per row
  const n = ch.rows.length;
  const out = new Out(n * 110);
  const times = new Times();
  const g = new Gathered();
  const camp = new Int32Array(BATCH);
  const idBytes = ch.afid.bytes, rcBytes = ch.receipt.bytes;
  for (let b0 = 0; b0 < n; b0 += BATCH) {
    const b1 = Math.min(n, b0 + BATCH);
    g.gather(ch.rows, b0, b1, ch.afid, ch.receipt, ch.time, null);
    for (let j = b0; j < b1; j++) camp[j - b0] = ch.campaign[ch.rows[j]!]!;
    for (let j = b0; j < b1; j++) {
      const x = j - b0;
      const cb = campaigns[camp[x]!]!;
      const is = g.idS[x]!, ie = g.idE[x]!, rs = g.rcS[x]!, re = g.rcE[x]!;
      const buf = out.room(2 * (ie - is + re - rs) + cb.length + 128);
      let at = out.at;
      at = putCsv(buf, at, idBytes, is, ie);
      at = put(buf, at, T_PURCHASE);
      at = times.put(buf, at, g.time[x]!);
      buf[at++] = 44;
      at = putMicro(buf, at, ch.revenue[j]!);
      buf[at++] = 44;
      at = put(buf, at, cb);
      buf[at++] = 44;
      at = putCsv(buf, at, rcBytes, rs, re);
      at = put(buf, at, ch.chargeback[j] ? T_TRUE : T_FALSE);
      out.at = at;
    }
  }
  return out.done();
}

const T_FIRST = ascii("\n    ");
const T_NEXT = ascii(",\n    ");
const T_CONFIRMED_ONLY = ascii('{"type":"confirmed_only","appsflyer_id":');
const T_MATCHED = ascii('{"type":"matched","appsflyer_id":');
const T_AF_ONLY = ascii('{"type":"af_only","appsflyer_id":');
const T_AF_TIME = ascii(',"af_event_time_utc":"');
const T_AF_REVENUE = ascii('","af_revenue_usd":');
const T_AF_RECEIPT = ascii(',"af_receipt_id":');
const T_C_TIME = ascii(',"confirmed_event_time_utc":"');
const T_C_REVENUE = ascii('","confirmed_revenue_usd":');
const T_C_RECEIPT = ascii(',"confirmed_receipt_id":');
const T_DELTA = ascii(',"delta_seconds":');
const T_DIFF = ascii(',"revenue_diff_usd":');

/**
 * The detail lines of a chunk, each on its own line inside the details array: compact JSON,
 * keys in SPEC order, an absent side left out (the text JSON.stringify gives for the object).
 */
export function detailsBytes(ch: DetailsChunk): Uint8Array {
  const n = ch.type.length;
  const out = new Out(n * 320);
  const times = new Times();
  const af = ch.af, c = ch.conf;
  const A = new Gathered(), C = new Gathered();
  const aid = af.afid.bytes, arc = af.receipt.bytes, cid = c.afid.bytes, crc = c.receipt.bytes;
  for (let b0 = 0; b0 < n; b0 += BATCH) {
    const b1 = Math.min(n, b0 + BATCH);
    A.gather(ch.afRow, b0, b1, af.afid, af.receipt, af.time, af.revenue);
    C.gather(ch.confRow, b0, b1, c.afid, c.receipt, c.time, c.revenue);
    for (let k = b0; k < b1; k++) {
      const x = k - b0;
      const type = ch.type[k]!;
      const ids = type === CONFIRMED_ONLY ? C.idE[x]! - C.idS[x]! + C.rcE[x]! - C.rcS[x]! :
        A.idE[x]! - A.idS[x]! + A.rcE[x]! - A.rcS[x]! + (type === MATCHED ? C.rcE[x]! - C.rcS[x]! : 0);
      const buf = out.room(6 * ids + 512);
      let at = put(buf, out.at, k === 0 && ch.first ? T_FIRST : T_NEXT);
      if (type === CONFIRMED_ONLY) {
        at = put(buf, at, T_CONFIRMED_ONLY);
        at = putJson(buf, at, cid, C.idS[x]!, C.idE[x]!);
        at = put(buf, at, T_C_TIME);
        at = times.put(buf, at, C.time[x]!);
        at = put(buf, at, T_C_REVENUE);
        at = putUsd(buf, at, C.revenue[x]!);
        at = put(buf, at, T_C_RECEIPT);
        at = putJson(buf, at, crc, C.rcS[x]!, C.rcE[x]!);
        buf[at++] = 125;
        out.at = at;
        continue;
      }
      const afRevenue = A.revenue[x]!;
      at = put(buf, at, type === MATCHED ? T_MATCHED : T_AF_ONLY);
      at = putJson(buf, at, aid, A.idS[x]!, A.idE[x]!);
      at = put(buf, at, T_AF_TIME);
      at = times.put(buf, at, A.time[x]!);
      at = put(buf, at, T_AF_REVENUE);
      at = putUsd(buf, at, afRevenue);
      at = put(buf, at, T_AF_RECEIPT);
      at = putJson(buf, at, arc, A.rcS[x]!, A.rcE[x]!);
      if (type !== AF_ONLY) {
        at = put(buf, at, T_C_TIME);
        at = times.put(buf, at, C.time[x]!);
        at = put(buf, at, T_C_REVENUE);
        at = putUsd(buf, at, C.revenue[x]!);
        at = put(buf, at, T_C_RECEIPT);
        at = putJson(buf, at, crc, C.rcS[x]!, C.rcE[x]!);
        at = put(buf, at, T_DELTA);
        at = putInt(buf, at, A.time[x]! - C.time[x]!);
        at = put(buf, at, T_DIFF);
        at = putUsd(buf, at, afRevenue - C.revenue[x]!);
      }
      buf[at++] = 125;
      out.at = at;
    }
  }
  return out.done();
}

/** Renders a chunk to UTF-8 (its own buffer, so it can be transferred). */
export function renderChunk(ch: Chunk): Uint8Array {
  return ch.kind === "curated" ? curatedBytes(ch) : detailsBytes(ch);
}

/** Rows per chunk: a few chunks per thread for balance, not so small that per-chunk costs dominate. */
export function chunkSize(n: number, threads: number): number {
  return Math.max(50_000, Math.ceil(n / (threads * 4)));
}

/** Splits the curated rows into chunks (the row ranges are small copies; the columns are shared). */
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

/** AF revenue after chargebacks by purchases row (shared, read by every details chunk). */
export function afRevenueByRow(p: PurchasesTable, curated: Curated): Float64Array {
  const afRevenue = new Float64Array(new SharedArrayBuffer(Math.max(1, p.n) * 8), 0, p.n);
  for (let j = 0; j < curated.n; j++) afRevenue[curated.rows[j]!] = curated.revenue[j]!;
  return afRevenue;
}

/** Splits the details into chunks; AF revenue is looked up by purchases row after chargebacks. */
export function detailChunks(p: PurchasesTable, curated: Curated, c: ConfirmedTable, d: Details, size: number, afRevenue = afRevenueByRow(p, curated)): DetailsChunk[] {
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
