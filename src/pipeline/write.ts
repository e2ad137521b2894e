/**
 * The two big outputs. purchases_curated.csv is formatted in row ranges ("chunks") that render on
 * the worker pool in parallel, then are written in order. The reconciliation details are rendered
 * by the reconciliation partitions themselves (DetailWriter, called from reconcile.ts, where each
 * id's rows sit side by side in memory) and merged here in id order (writeReconciliation).
 * Everything is rendered straight to UTF-8 bytes: ids are copied as bytes (escaped only where
 * needed), numbers and times are written digit by digit. The text is the same as formatting each
 * value as a string (csvField, JSON.stringify, formatTime, formatMicro, usdText) and encoding it.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { compareBytes, type BytesColumn } from "./columns.ts";
import type { Curated } from "./curate.ts";
import { usd } from "./exact.ts";
import type { PurchasesTable } from "./tables.ts";
import { formatDate, MICRO, SECONDS_PER_DAY } from "./normalise.ts";

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

const encoder = new TextEncoder();
const ascii = (s: string) => encoder.encode(s);

/** Growable output bytes; `room(n)` before writing up to n bytes by hand at `at`. */
class Out {
  buf: Uint8Array;
  at = 0;
  /** shared: the bytes live in a SharedArrayBuffer (other threads write them out without a copy) */
  constructor(capacity: number, private readonly shared = false) {
    this.buf = this.alloc(Math.max(1024, capacity));
  }
  private alloc(n: number): Uint8Array {
    return this.shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n);
  }
  room(n: number): Uint8Array {
    if (this.at + n > this.buf.length) {
      const next = this.alloc(Math.max(Math.ceil(this.buf.length * 1.5), this.at + n));
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

/**
 * Canonical `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds (formatTime). The date text (formatDate + "T")
 * is cached per day in one flat table for the years around the first day seen (module-level:
 * every chunk a worker renders shares it, and the JIT sees one stable shape).
 */
const NEAR_DAYS = 1 << 16;
let nearBase = NaN;
const nearText = new Uint8Array(NEAR_DAYS * 11);
const nearDone = new Uint8Array(NEAR_DAYS);

function putDateSlow(buf: Uint8Array, at: number, day: number): number {
  return put(buf, at, ascii(formatDate(day) + "T"));
}

function putTime(buf: Uint8Array, at: number, seconds: number): number {
  const day = Math.floor(seconds / SECONDS_PER_DAY);
  if (nearBase !== nearBase) nearBase = day - (NEAR_DAYS >> 1);
  const k = day - nearBase;
  if (k >= 0 && k < NEAR_DAYS) {
    const from = k * 11;
    if (nearDone[k] === 0) {
      const text = ascii(formatDate(day) + "T");
      if (text.length === 11) {
        nearText.set(text, from);
        nearDone[k] = 1;
      } else nearDone[k] = 2; // a year past 9999: not 11 bytes
    }
    if (nearDone[k] === 1) {
      for (let i = 0; i < 11; i++) buf[at + i] = nearText[from + i]!;
      at += 11;
    } else at = putDateSlow(buf, at, day);
  } else at = putDateSlow(buf, at, day);
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
 * come in output order, which is random in the tables: gathering first beats chasing each row's
 * values one after another. The arrays are module-level (one set per worker thread).
 */
const BATCH = 256;
const gIdS = new Int32Array(BATCH), gIdE = new Int32Array(BATCH), gRcS = new Int32Array(BATCH), gRcE = new Int32Array(BATCH);
const gTime = new Float64Array(BATCH), gCamp = new Int32Array(BATCH);
let touched = 0;

/** Gathers curated rows [from, to) of a chunk into the batch arrays. */
function gatherCurated(ch: CuratedChunk, from: number, to: number): void {
  const rows = ch.rows, io = ch.afid.offsets, ro = ch.receipt.offsets, time = ch.time, campaign = ch.campaign;
  for (let k = from; k < to; k++) {
    const r = rows[k]!;
    gIdS[k - from] = io[r]!;
    gIdE[k - from] = io[r + 1]!;
  }
  for (let k = from; k < to; k++) {
    const r = rows[k]!;
    gRcS[k - from] = ro[r]!;
    gRcE[k - from] = ro[r + 1]!;
  }
  for (let k = from; k < to; k++) gTime[k - from] = time[rows[k]!]!;
  for (let k = from; k < to; k++) gCamp[k - from] = campaign[rows[k]!]!;
  // pull the id bytes into cache
  const ib = ch.afid.bytes, rb = ch.receipt.bytes;
  let x = 0;
  for (let k = 0; k < to - from; k++) x ^= ib[gIdS[k]!]! ^ rb[gRcS[k]!]!;
  touched ^= x;
}

/** Writes curated rows [from, to) of a chunk (gathered first). */
function curatedBatch(out: Out, ch: CuratedChunk, campaigns: Uint8Array[], from: number, to: number): void {
  gatherCurated(ch, from, to);
  const idBytes = ch.afid.bytes, rcBytes = ch.receipt.bytes, revenue = ch.revenue, chargeback = ch.chargeback;
  for (let j = from; j < to; j++) {
    const x = j - from;
    const cb = campaigns[gCamp[x]!]!;
    const is = gIdS[x]!, ie = gIdE[x]!, rs = gRcS[x]!, re = gRcE[x]!;
    const buf = out.room(2 * (ie - is + re - rs) + cb.length + 128);
    let at = out.at;
    at = putCsv(buf, at, idBytes, is, ie);
    at = put(buf, at, T_PURCHASE);
    at = putTime(buf, at, gTime[x]!);
    buf[at++] = 44;
    at = putMicro(buf, at, revenue[j]!);
    buf[at++] = 44;
    at = put(buf, at, cb);
    buf[at++] = 44;
    at = putCsv(buf, at, rcBytes, rs, re);
    at = put(buf, at, chargeback[j] ? T_TRUE : T_FALSE);
    out.at = at;
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
  for (let b0 = 0; b0 < n; b0 += BATCH) curatedBatch(out, ch, campaigns, b0, Math.min(n, b0 + BATCH));
  return out.done();
}

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

/** One side of a detail (AF or confirmed): its time, revenue and receipt fields, after their key templates. */
function putSide(buf: Uint8Array, at: number, tTime: Uint8Array, time: number, tRevenue: Uint8Array, revenue: number, tReceipt: Uint8Array, rb: Uint8Array, rs: number, re: number): number {
  at = putTime(buf, put(buf, at, tTime), time);
  at = putUsd(buf, put(buf, at, tRevenue), revenue);
  return putJson(buf, put(buf, at, tReceipt), rb, rs, re);
}

/**
 * Writes reconciliation detail lines (compact JSON, keys in SPEC order, an absent side left out:
 * the text JSON.stringify gives for the flat object), each starting with ",\n    ". The id of the
 * group being written is set once (setId) and copied into each of its lines.
 */
export class DetailWriter {
  private readonly out: Out;
  private id = new Uint8Array(64);
  private idLen = 0;
  constructor(capacity: number) {
    this.out = new Out(capacity, true);
  }
  get size(): number {
    return this.out.at;
  }
  /** The appsflyer_id of the next lines (bytes [s, e) of src), as a JSON string literal. */
  setId(src: Uint8Array, s: number, e: number): void {
    if (this.id.length < 6 * (e - s) + 2) this.id = new Uint8Array(6 * (e - s) + 2);
    this.idLen = putJson(this.id, 0, src, s, e);
  }
  /** The line's opening (separator, type, id) at out.at; the caller has made room. */
  private head(buf: Uint8Array, template: Uint8Array): number {
    let at = put(buf, this.out.at, T_NEXT);
    at = put(buf, at, template);
    const id = this.id, n = this.idLen;
    for (let i = 0; i < n; i++) buf[at + i] = id[i]!;
    return at + n;
  }
  /** A matched pair: AF time, revenue (after chargebacks), receipt; confirmed time, revenue, receipt. */
  matched(at_: number, ar: number, arb: Uint8Array, ars: number, are: number, ct: number, cr: number, crb: Uint8Array, crs: number, cre: number): void {
    const buf = this.out.room(6 * (are - ars + cre - crs) + this.idLen + 512);
    let at = putSide(buf, this.head(buf, T_MATCHED), T_AF_TIME, at_, T_AF_REVENUE, ar, T_AF_RECEIPT, arb, ars, are);
    at = putSide(buf, at, T_C_TIME, ct, T_C_REVENUE, cr, T_C_RECEIPT, crb, crs, cre);
    at = put(buf, at, T_DELTA);
    at = putInt(buf, at, at_ - ct);
    at = put(buf, at, T_DIFF);
    at = putUsd(buf, at, ar - cr);
    buf[at++] = 125;
    this.out.at = at;
  }
  /** An unmatched purchase. */
  afOnly(at_: number, ar: number, arb: Uint8Array, ars: number, are: number): void {
    const buf = this.out.room(6 * (are - ars) + this.idLen + 512);
    const at = putSide(buf, this.head(buf, T_AF_ONLY), T_AF_TIME, at_, T_AF_REVENUE, ar, T_AF_RECEIPT, arb, ars, are);
    buf[at] = 125;
    this.out.at = at + 1;
  }
  /** An unmatched confirmation. */
  confirmedOnly(ct: number, cr: number, crb: Uint8Array, crs: number, cre: number): void {
    const buf = this.out.room(6 * (cre - crs) + this.idLen + 512);
    const at = putSide(buf, this.head(buf, T_CONFIRMED_ONLY), T_C_TIME, ct, T_C_REVENUE, cr, T_C_RECEIPT, crb, crs, cre);
    buf[at] = 125;
    this.out.at = at + 1;
  }
  done(): Uint8Array {
    return this.out.done();
  }
}

/** One reconciliation partition's rendered lines: id group g (in id order) is bytes[runBytes[g], runBytes[g+1]), its id ids[idOff[g], idOff[g+1]). */
export interface RenderedPart {
  bytes: Uint8Array;
  runBytes: Float64Array;
  ids: Uint8Array;
  idOff: Uint32Array;
}

/** Compares group g of partition a with group h of partition b by id. */
function compareGroups(a: RenderedPart, g: number, b: RenderedPart, h: number): number {
  return compareBytes(a.ids, a.idOff[g]!, a.idOff[g + 1]!, b.ids, b.idOff[h]!, b.idOff[h + 1]!);
}

/**
 * Where every stretch of detail lines goes: stretches of consecutive id groups of one partition,
 * in output order (a k-way merge of the partitions' id-sorted groups; ids never repeat across
 * partitions). Stretch i is bytes [start[i], end[i]) of partition part[i]; the very first loses its
 * leading comma. `chunks` cuts the stretches into pieces of about `chunkBytes` of output, each
 * written by one task at file offset offsets[k] (relative to the start of the details).
 */
export interface DetailsPlan {
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
  /** chunk k = stretches chunks[k] .. chunks[k+1]-1, at offsets[k]; offsets[last] = total bytes */
  chunks: number[];
  offsets: number[];
}

export function planDetails(parts: RenderedPart[], chunkBytes = 8 << 20): DetailsPlan {
  const groups = parts.map((p) => p.idOff.length - 1);
  let cap = 1024;
  let part = new Int32Array(cap), start = new Float64Array(cap), end = new Float64Array(cap);
  let n = 0, total = 0;
  const chunks = [0], offsets = [0];
  const next = new Int32Array(parts.length); // next group per partition
  for (;;) {
    // the partition whose next id is smallest, and the runner-up
    let best = -1, second = -1;
    for (let j = 0; j < parts.length; j++) {
      if (next[j]! >= groups[j]!) continue;
      if (best === -1 || compareGroups(parts[j]!, next[j]!, parts[best]!, next[best]!) < 0) {
        second = best;
        best = j;
      } else if (second === -1 || compareGroups(parts[j]!, next[j]!, parts[second]!, next[second]!) < 0) second = j;
    }
    if (best === -1) break;
    const d = parts[best]!, g = next[best]!;
    // the stretch of its ids below the runner-up's next id goes at once
    let h = g + 1;
    if (second === -1) h = groups[best]!;
    else {
      const o = parts[second]!, og = next[second]!;
      while (h < groups[best]! && compareGroups(d, h, o, og) < 0) h++;
    }
    if (n === cap) {
      cap *= 2;
      const p2 = new Int32Array(cap), s2 = new Float64Array(cap), e2 = new Float64Array(cap);
      p2.set(part);
      s2.set(start);
      e2.set(end);
      part = p2;
      start = s2;
      end = e2;
    }
    part[n] = best;
    start[n] = d.runBytes[g]! + (n === 0 ? 1 : 0); // ",\n    " -> "\n    " on the first line
    end[n] = d.runBytes[h]!;
    total += end[n]! - start[n]!;
    n++;
    if (total - offsets[offsets.length - 1]! >= chunkBytes) {
      chunks.push(n);
      offsets.push(total);
    }
    next[best] = h;
  }
  if (chunks[chunks.length - 1] !== n) {
    chunks.push(n);
    offsets.push(total);
  }
  return { part: part.subarray(0, n), start: start.subarray(0, n), end: end.subarray(0, n), chunks, offsets };
}

/** One piece of the details to write: its stretches (copies) and where they go. */
export interface DetailsChunkTask {
  path: string;
  /** file offset of the piece */
  position: number;
  /** every partition's rendered bytes (shared memory) */
  bytes: Uint8Array[];
  part: Int32Array;
  start: Float64Array;
  end: Float64Array;
}

/** The tasks that write the planned details, the first piece at file offset `base`. */
export function detailsChunkTasks(path: string, base: number, parts: RenderedPart[], plan: DetailsPlan): DetailsChunkTask[] {
  const tasks: DetailsChunkTask[] = [];
  for (let k = 0; k + 1 < plan.chunks.length; k++) {
    const a = plan.chunks[k]!, b = plan.chunks[k + 1]!;
    tasks.push({
      path,
      position: base + plan.offsets[k]!,
      bytes: parts.map((p) => p.bytes),
      part: plan.part.slice(a, b),
      start: plan.start.slice(a, b),
      end: plan.end.slice(a, b),
    });
  }
  return tasks;
}

let chunkBuffer = new Uint8Array(0);

/** Copies a piece's stretches together and writes them at its offset (the file exists). Returns the bytes written. */
export function writeDetailsChunk(task: DetailsChunkTask): number {
  let size = 0;
  for (let i = 0; i < task.part.length; i++) size += task.end[i]! - task.start[i]!;
  if (chunkBuffer.length < size) chunkBuffer = new Uint8Array(Math.max(size, 8 << 20));
  let at = 0;
  for (let i = 0; i < task.part.length; i++) {
    const src = task.bytes[task.part[i]!]!, s = task.start[i]!, e = task.end[i]!;
    chunkBuffer.set(src.subarray(s, e), at);
    at += e - s;
  }
  const fd = openSync(task.path, "r+");
  try {
    let done = 0;
    while (done < size) done += writeSync(fd, chunkBuffer, done, size - done, task.position + done);
  } finally {
    closeSync(fd);
  }
  return size;
}

/**
 * Writes reconciliation.json: head, the partitions' detail lines in id order, tail. The pieces are
 * written by `write` (pool tasks, in parallel, each at its own offset); the main thread only plans.
 */
export async function writeReconciliation(path: string, head: string, tail: string, parts: RenderedPart[], write: (task: DetailsChunkTask) => Promise<number> = async (t) => writeDetailsChunk(t)): Promise<void> {
  const headBytes = encoder.encode(head);
  const plan = planDetails(parts);
  const total = plan.offsets[plan.offsets.length - 1]!;
  const fh = await open(path, "w");
  try {
    await fh.write(headBytes, 0, headBytes.length, 0);
    const tailBytes = encoder.encode(tail);
    await fh.write(tailBytes, 0, tailBytes.length, headBytes.length + total);
    await Promise.all(detailsChunkTasks(path, headBytes.length, parts, plan).map(write));
  } finally {
    await fh.close();
  }
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

/** AF revenue after chargebacks by purchases row (shared, read by the reconciliation partitions). */
export function afRevenueByRow(p: PurchasesTable, curated: Curated): Float64Array {
  const afRevenue = new Float64Array(new SharedArrayBuffer(Math.max(1, p.n) * 8), 0, p.n);
  for (let j = 0; j < curated.n; j++) afRevenue[curated.rows[j]!] = curated.revenue[j]!;
  return afRevenue;
}

/**
 * Writes head, the rendered chunks in order, then tail. At most `window` chunks render at once
 * (bounded memory); each is written as soon as it and all before it are done.
 */
export async function writeChunks(path: string, head: string, tail: string, chunks: CuratedChunk[], render: (ch: CuratedChunk) => Promise<Uint8Array>, window: number): Promise<void> {
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
