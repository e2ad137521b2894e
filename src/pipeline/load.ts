/**
 * Parse + normalise the input files into columnar tables (SPEC 4 inputs and 4.1 validity).
 * Every row is checked for unparseable values before any filter; a bad row is counted once,
 * under its first bad column in file order, and takes no part in anything after.
 *
 * A file is read in "segments" (byte ranges, on the pool in parallel: see pool.ts) by the fast
 * byte reader (csvfast.ts); a file it does not take is read whole through papaparse (parse.ts),
 * whose string rows are re-encoded and fed to the same row logic, so both paths give the same
 * table. Segments are merged, in file order, into one table whose big arrays are shared memory.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { PipelineInputError } from "./errors.ts";
import {
  ByteDict,
  BytesBuilder,
  decodeBytes,
  F64Builder,
  hashBytes,
  I32Builder,
  Interner,
  mix32,
  renormalise,
  sharedF64,
  sharedI32,
  sharedU32,
  sharedU8,
  U32Builder,
  U8Builder,
  type BytesColumn,
} from "./columns.ts";
import { isUtf8, PROBE_BYTES, probeHeader, scanInto, SCAN_IRREGULAR, SCAN_NEED_MORE, type RowSink } from "./csvfast.ts";
import { normaliseCampaign, normaliseKeyword, parseDateBytes, parseMoneyBytes, parseTimeBytes, SECONDS_PER_DAY } from "./normalise.ts";
import { inputSize, normaliseHeader, resolveColumns, streamCsv } from "./parse.ts";
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
  type Table,
} from "./tables.ts";

export * from "./tables.ts";

// ---------------------------------------------------------------- layouts

/** Where a file's wanted columns are: slot k of the row logic reads column at[k] (-1: absent). */
export interface Layout {
  kind: FileKind;
  /** column index -> slot (-1: not wanted) */
  slotOf: number[];
  /** slot -> column index (-1: absent) */
  at: number[];
  /** sessions: the time slot holds event_timestamp_utc (else date) */
  timestamp: boolean;
}

const SLOTS = {
  purchases: ["appsflyer_id", "event_name", "event_time_utc", "revenue_usd", "campaign", "receipt_id", "status"],
  confirmed: ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id"],
  costs: ["date", "campaign", "ad_cost_usd"],
} as const;

/** Resolves the wanted columns from the normalised header; a missing one is a bad-input error. */
export function layoutFor(kind: FileKind, header: string[], line: number): Layout {
  const file = FILES[kind];
  let at: number[];
  let timestamp = false;
  if (kind === "sessions") {
    const c = resolveColumns(file, header, line, ["user_id"], ["event_timestamp_utc", "date", "campaign"]);
    if (c.event_timestamp_utc === -1 && c.date === -1) {
      throw new PipelineInputError(file, line, "event_timestamp_utc", `missing required column "event_timestamp_utc" or "date" (header: ${header.join(",")})`);
    }
    timestamp = c.event_timestamp_utc !== -1;
    at = [c.user_id, timestamp ? c.event_timestamp_utc : c.date, c.campaign];
  } else {
    const names = SLOTS[kind];
    const c = resolveColumns(file, header, line, names) as Record<string, number>;
    at = names.map((n) => c[n]!);
  }
  const slotOf = new Array<number>(Math.max(...at) + 1).fill(-1);
  at.forEach((col, slot) => {
    if (col >= 0) slotOf[col] = slot;
  });
  return { kind, slotOf, at, timestamp };
}

// ---------------------------------------------------------------- row logic (one class per file kind)

function newQuality(): FileQuality {
  return { rows: 0, skipped: 0, bad_time: 0, bad_number: 0 };
}

function statusFlag(raw: string): number {
  const k = normaliseKeyword(raw);
  return k === "success" ? STATUS_SUCCESS : k === "chargeback" ? STATUS_CHARGEBACK : 0;
}

function eventFlag(raw: string): number {
  return normaliseKeyword(raw) === "purchase" ? EVENT_PURCHASE : 0;
}

/** `text.trim() === ""` on the bytes [s, e). */
function isBlankBytes(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x80) return decodeBytes(b, s, e).trim() === "";
    if (c !== 32 && (c < 9 || c > 13)) return false;
  }
  return true;
}

/**
 * Hash of a low-cardinality cell (status, event, campaign) from its length and three of its bytes:
 * cheap, and the dictionary compares the bytes anyway.
 */
function quickHash(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return 0;
  return mix32(Math.imul(n, 0x9e3779b1) ^ (b[s]! << 8) ^ (b[e - 1]! << 16) ^ (b[s + (n >> 1)]! << 24));
}

/** A low-cardinality cell mapped through fn (status, event_name), memoised by its bytes (bounded). */
class Keyword {
  private readonly dict = new ByteDict();
  /** the last value looked up (a column mostly repeats one value: "success", "purchase") */
  private readonly last = new Uint8Array(32);
  private lastLen = -1;
  private lastValue = 0;
  constructor(private readonly fn: (raw: string) => number) {}
  of(b: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (n === this.lastLen) {
      const last = this.last;
      let i = 0;
      while (i < n && b[s + i] === last[i]) i++;
      if (i === n) return this.lastValue;
    }
    const h = quickHash(b, s, e);
    const at = this.dict.find(b, s, e, h);
    let v: number;
    if (at >= 0) v = this.dict.values[at]!;
    else {
      v = this.fn(decodeBytes(b, s, e));
      if (this.dict.size < 1024) this.dict.add(b, s, e, h, v); // garbage values must not grow it without bound
    }
    if (n <= 32) {
      this.last.set(b.subarray(s, e));
      this.lastLen = n;
      this.lastValue = v;
    }
    return v;
  }
}

/** Raw campaign values interned by their bytes (normalised later, once per distinct value). */
class Campaigns {
  private readonly dict = new ByteDict();
  readonly raw: string[] = [];
  code(b: Uint8Array, s: number, e: number): number {
    const h = quickHash(b, s, e);
    const at = this.dict.find(b, s, e, h);
    if (at >= 0) return this.dict.values[at]!;
    const code = this.raw.length;
    this.raw.push(decodeBytes(b, s, e));
    this.dict.add(b, s, e, h, code);
    return code;
  }
}

/**
 * How big a sink's columns start: `rows` (an estimate: columns grow past it when needed) and
 * `bytes`, the text the sink reads (an upper bound for any byte-string column: allocated once,
 * only the pages written are ever touched).
 */
export interface Sizing {
  rows: number;
  bytes: number;
}

const DEFAULT_SIZING: Sizing = { rows: 1 << 14, bytes: 1 << 18 };

/**
 * Row logic of one file kind. Each class has its own rows() loop (a shared one in the base class
 * would make its call to row() polymorphic, and the JIT recompiles polymorphic hot code).
 * Slot k of the record at offset o is bytes [fs[o + k], fe[o + k]) of b.
 */
abstract class Sink implements RowSink {
  readonly q = newQuality();
  usable = 0;
  abstract rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void;
  protected skip(reason: BadReason, line: number, column: string): void {
    const q = this.q;
    q.skipped++;
    q[reason]++;
    q.firstBad ??= { line, column, reason };
  }
}

/** Columns of a purchases segment. */
export interface PurchasesCols {
  n: number;
  time: Float64Array;
  revenue: Float64Array;
  flags: Uint8Array;
  campaign: Uint32Array;
  campaignRaw: string[];
  afid: BytesColumn;
  afidHash: Int32Array;
  receipt: BytesColumn;
  receiptHash: Int32Array;
  /** receipts of the usable chargeback rows (empty ones left out) */
  chargebacks: BytesColumn;
}

class PurchasesSink extends Sink {
  private readonly time: F64Builder;
  private readonly revenue: F64Builder;
  private readonly flags: U8Builder;
  private readonly campaign: U32Builder;
  private readonly afid: BytesBuilder;
  private readonly afidHash: I32Builder;
  private readonly receipt: BytesBuilder;
  private readonly receiptHash: I32Builder;
  private readonly chargebacks = new BytesBuilder(1 << 10);
  private readonly status = new Keyword(statusFlag);
  private readonly event = new Keyword(eventFlag);
  private readonly campaigns = new Campaigns();
  /** a row bad in both time and revenue counts under the one first in the file */
  private readonly timeFirst: boolean;
  constructor(layout: Layout, size: Sizing) {
    super();
    this.timeFirst = layout.at[2]! < layout.at[3]!;
    const rows = size.rows;
    this.time = new F64Builder(rows);
    this.revenue = new F64Builder(rows);
    this.flags = new U8Builder(rows);
    this.campaign = new U32Builder(rows);
    this.afid = new BytesBuilder(size.bytes);
    this.afidHash = new I32Builder(rows);
    this.receipt = new BytesBuilder(size.bytes);
    this.receiptHash = new I32Builder(rows);
  }
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void {
    for (let r = 0; r < n; r++) this.row(buf, fs, fe, r * slots, lines[r]!);
  }
  row(b: Uint8Array, fs: Int32Array, fe: Int32Array, o: number, line: number): void {
    this.q.rows++;
    const st = this.status.of(b, fs[o + 6]!, fe[o + 6]!);
    const t = parseTimeBytes(b, fs[o + 2]!, fe[o + 2]!);
    const rev = parseMoneyBytes(b, fs[o + 3]!, fe[o + 3]!);
    const timeBad = t !== t;
    // a chargeback export often carries no revenue: its receipt still counts
    const revBad = rev !== rev && !(st === STATUS_CHARGEBACK && isBlankBytes(b, fs[o + 3]!, fe[o + 3]!));
    if (timeBad || revBad) {
      if (timeBad && (!revBad || this.timeFirst)) this.skip("bad_time", line, "event_time_utc");
      else this.skip("bad_number", line, "revenue_usd");
      return;
    }
    this.usable++;
    this.flags.push(st | this.event.of(b, fs[o + 1]!, fe[o + 1]!));
    this.time.push(t);
    this.revenue.push(rev);
    this.afidHash.push(this.afid.push(b, fs[o]!, fe[o]!));
    this.campaign.push(this.campaigns.code(b, fs[o + 4]!, fe[o + 4]!));
    this.receiptHash.push(this.receipt.push(b, fs[o + 5]!, fe[o + 5]!));
    if (st === STATUS_CHARGEBACK && fe[o + 5]! > fs[o + 5]!) this.chargebacks.push(b, fs[o + 5]!, fe[o + 5]!);
  }
  cols(): PurchasesCols {
    return {
      n: this.time.length,
      time: this.time.view(),
      revenue: this.revenue.view(),
      flags: this.flags.view(),
      campaign: this.campaign.view(),
      campaignRaw: this.campaigns.raw,
      afid: this.afid.view(),
      afidHash: this.afidHash.view(),
      receipt: this.receipt.view(),
      receiptHash: this.receiptHash.view(),
      chargebacks: this.chargebacks.view(),
    };
  }
}

/** Columns of a confirmed segment. */
export interface ConfirmedCols {
  n: number;
  time: Float64Array;
  revenue: Float64Array;
  afid: BytesColumn;
  afidHash: Int32Array;
  receipt: BytesColumn;
}

class ConfirmedSink extends Sink {
  private readonly time: F64Builder;
  private readonly revenue: F64Builder;
  private readonly afid: BytesBuilder;
  private readonly afidHash: I32Builder;
  private readonly receipt: BytesBuilder;
  private readonly timeFirst: boolean;
  constructor(layout: Layout, size: Sizing) {
    super();
    this.timeFirst = layout.at[1]! < layout.at[2]!;
    const rows = size.rows;
    this.time = new F64Builder(rows);
    this.revenue = new F64Builder(rows);
    this.afid = new BytesBuilder(size.bytes);
    this.afidHash = new I32Builder(rows);
    this.receipt = new BytesBuilder(size.bytes);
  }
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void {
    for (let r = 0; r < n; r++) this.row(buf, fs, fe, r * slots, lines[r]!);
  }
  row(b: Uint8Array, fs: Int32Array, fe: Int32Array, o: number, line: number): void {
    this.q.rows++;
    const t = parseTimeBytes(b, fs[o + 1]!, fe[o + 1]!);
    const rev = parseMoneyBytes(b, fs[o + 2]!, fe[o + 2]!);
    if (t !== t || rev !== rev) {
      if (t !== t && (rev === rev || this.timeFirst)) this.skip("bad_time", line, "event_time_utc");
      else this.skip("bad_number", line, "revenue_usd");
      return;
    }
    this.usable++;
    this.time.push(t);
    this.revenue.push(rev);
    this.afidHash.push(this.afid.push(b, fs[o]!, fe[o]!));
    this.receipt.push(b, fs[o + 3]!, fe[o + 3]!);
  }
  cols(): ConfirmedCols {
    return {
      n: this.time.length,
      time: this.time.view(),
      revenue: this.revenue.view(),
      afid: this.afid.view(),
      afidHash: this.afidHash.view(),
      receipt: this.receipt.view(),
    };
  }
}

/** Columns of a costs segment. */
export interface CostsCols {
  n: number;
  day: Float64Array;
  cost: Float64Array;
  campaign: Uint32Array;
  campaignRaw: string[];
}

class CostsSink extends Sink {
  private readonly day = new F64Builder();
  private readonly cost = new F64Builder();
  private readonly campaign = new U32Builder();
  private readonly campaigns = new Campaigns();
  private readonly dateFirst: boolean;
  constructor(layout: Layout) {
    super();
    this.dateFirst = layout.at[0]! < layout.at[2]!;
  }
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void {
    for (let r = 0; r < n; r++) this.row(buf, fs, fe, r * slots, lines[r]!);
  }
  row(b: Uint8Array, fs: Int32Array, fe: Int32Array, o: number, line: number): void {
    this.q.rows++;
    const d = parseDateBytes(b, fs[o]!, fe[o]!);
    const v = parseMoneyBytes(b, fs[o + 2]!, fe[o + 2]!);
    if (d !== d || v !== v) {
      if (d !== d && (v === v || this.dateFirst)) this.skip("bad_time", line, "date");
      else this.skip("bad_number", line, "ad_cost_usd");
      return;
    }
    this.usable++;
    this.day.push(d);
    this.cost.push(v);
    this.campaign.push(this.campaigns.code(b, fs[o + 1]!, fe[o + 1]!));
  }
  cols(): CostsCols {
    return { n: this.day.length, day: this.day.view(), cost: this.cost.view(), campaign: this.campaign.view(), campaignRaw: this.campaigns.raw };
  }
}

/** Columns of a sessions segment (only the rows of `onlyDay` when one is given). */
export interface SessionsCols {
  n: number;
  day: Float64Array;
  user: BytesColumn;
  userHash: Int32Array;
  campaign: Uint32Array | null;
  campaignRaw: string[] | null;
}

class SessionsSink extends Sink {
  private readonly day: F64Builder;
  private readonly user: BytesBuilder;
  private readonly userHash: I32Builder;
  private readonly campaign: U32Builder;
  private readonly campaigns = new Campaigns();
  private readonly hasCampaign: boolean;
  private readonly timestamp: boolean;
  private readonly timeName: string;
  constructor(
    layout: Layout,
    private readonly only: number | undefined,
    size: Sizing,
  ) {
    super();
    // with a day to keep, few rows stay
    const rows = only === undefined ? size.rows : Math.max(1024, size.rows >> 4);
    this.day = new F64Builder(rows);
    this.user = new BytesBuilder(size.bytes);
    this.userHash = new I32Builder(rows);
    this.campaign = new U32Builder(rows);
    this.hasCampaign = layout.at[2]! !== -1;
    this.timestamp = layout.timestamp;
    this.timeName = layout.timestamp ? "event_timestamp_utc" : "date";
  }
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void {
    for (let r = 0; r < n; r++) this.row(buf, fs, fe, r * slots, lines[r]!);
  }
  row(b: Uint8Array, fs: Int32Array, fe: Int32Array, o: number, line: number): void {
    this.q.rows++;
    const d = this.timestamp ? Math.floor(parseTimeBytes(b, fs[o + 1]!, fe[o + 1]!) / SECONDS_PER_DAY) : parseDateBytes(b, fs[o + 1]!, fe[o + 1]!);
    if (d !== d) {
      this.skip("bad_time", line, this.timeName);
      return;
    }
    this.usable++;
    const only = this.only;
    if (only !== undefined && d !== only) return;
    this.day.push(d);
    this.userHash.push(this.user.push(b, fs[o]!, fe[o]!));
    if (this.hasCampaign) this.campaign.push(this.campaigns.code(b, fs[o + 2]!, fe[o + 2]!));
  }
  cols(): SessionsCols {
    return {
      n: this.day.length,
      day: this.day.view(),
      user: this.user.view(),
      userHash: this.userHash.view(),
      campaign: this.hasCampaign ? this.campaign.view() : null,
      campaignRaw: this.hasCampaign ? this.campaigns.raw : null,
    };
  }
}

type AnySink = PurchasesSink | ConfirmedSink | CostsSink | SessionsSink;

function sinkFor(layout: Layout, onlyDay: number | undefined, size: Sizing = DEFAULT_SIZING): AnySink {
  switch (layout.kind) {
    case "purchases":
      return new PurchasesSink(layout, size);
    case "confirmed":
      return new ConfirmedSink(layout, size);
    case "costs":
      return new CostsSink(layout);
    case "sessions":
      return new SessionsSink(layout, onlyDay, size);
  }
}

// ---------------------------------------------------------------- segments

export type SegmentCols = PurchasesCols | ConfirmedCols | CostsCols | SessionsCols;

/** One byte range of a file, read. Lines in it count from `lineBase` (set by the merge for fast segments). */
export interface Segment {
  kind: FileKind;
  quality: FileQuality;
  usable: number;
  cols: SegmentCols;
  /** file offsets: first record, first record not taken (next segment's start), the stop mark */
  start: number;
  end: number;
  stopAt: number;
  /** "\n" bytes in [start, end) */
  newlines: number;
  /** line of the segment's first byte; lines stored in it are relative to it */
  lineBase: number;
}

/** A segment the fast reader gave up on: why, and the offsets it was asked for. */
export interface Irregular {
  irregular: string;
  start: number;
  stopAt: number;
}

/** What a segment read needs to know about its file (from the header probe). */
export interface SegmentTask {
  kind: FileKind;
  path: string;
  size: number;
  layout: Layout;
  crlf: boolean;
  dataStart: number;
  onlyDay?: number;
  /** the byte range this segment owns: records starting at the first line start at or after `from` ... */
  from: number;
  /** ... and before the first line start at or after `to` */
  to: number;
  /** a start known to be a record start (a re-read after the speculative one missed) */
  forcedStart?: number;
  /** the stop mark, when already known */
  stopAt?: number;
  /** speculative reads give up on records longer than SPECULATIVE_LIMIT past their range */
  speculative: boolean;
  /** average bytes per line in the file's head (sizes the columns) */
  lineBytes: number;
}

const SPECULATIVE_LIMIT = 64 << 20;

let ioBuffer = new Uint8Array(0);

/** Reads [pos, pos + n) of fd into the shared I/O buffer (a view of exactly what was read). */
function readAt(fd: number, pos: number, n: number): Uint8Array {
  if (ioBuffer.length < n) ioBuffer = new Uint8Array(Math.max(n, ioBuffer.length * 2));
  let got = 0;
  while (got < n) {
    const r = readSync(fd, ioBuffer, got, n - got, pos + got);
    if (r <= 0) break;
    got += r;
  }
  return ioBuffer.subarray(0, got);
}

/** The first line start at or after x: the byte after the first "\n" at or after x - 1 (size when none). */
function lineStartAfter(fd: number, x: number, size: number): number {
  const step = 1 << 16;
  for (let pos = x - 1; pos < size; pos += step) {
    const chunk = readAt(fd, pos, Math.min(step, size - pos));
    const nl = chunk.indexOf(10);
    if (nl !== -1) return pos + nl + 1;
  }
  return size;
}

/** Reads one segment with the fast reader (worker side). */
export function readSegment(task: SegmentTask): Segment | Irregular {
  const fd = openSync(task.path, "r");
  try {
    const { size } = task;
    const start = task.forcedStart ?? (task.from <= task.dataStart ? task.dataStart : lineStartAfter(fd, task.from, size));
    const stopAt = task.stopAt ?? (task.to >= size ? size : lineStartAfter(fd, task.to, size));
    const slots = task.layout.at.length;
    const slotOf = Int32Array.from(task.layout.slotOf);
    for (let over = 1 << 20; ; over *= 4) {
      const readEnd = Math.min(size, Math.max(stopAt, start) + over);
      const buf = readAt(fd, start, readEnd - start);
      const eof = start + buf.length >= size;
      const rows = Math.ceil((buf.length / task.lineBytes) * 1.2) + 256;
      // byte columns start at ~40 bytes a row (ids, receipts) and grow when a file has longer ones
      const sink = sinkFor(task.layout, task.onlyDay, { rows, bytes: Math.min(buf.length, rows * 40 + 65536) });
      const sc = scanInto(buf, 0, Math.max(0, stopAt - start), eof, task.crlf, slotOf, slots, sink);
      if (sc.status === SCAN_NEED_MORE) {
        if (task.speculative && over >= SPECULATIVE_LIMIT) return { irregular: "record longer than the speculative limit", start, stopAt };
        continue;
      }
      if (sc.status === SCAN_IRREGULAR) return { irregular: sc.reason || "irregular", start, stopAt };
      if (!isUtf8(buf.subarray(0, sc.pos))) return { irregular: "not UTF-8", start, stopAt };
      return { kind: task.kind, quality: sink.q, usable: sink.usable, cols: sink.cols(), start, end: start + sc.pos, stopAt, newlines: sc.newlines, lineBase: 0 };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a whole file through papaparse (the fallback for files the fast reader does not take):
 * each row's wanted cells are re-encoded to UTF-8 and go through the same row logic. Lines are
 * absolute (lineBase 0).
 */
export async function readWhole(kind: FileKind, path: string, onlyDay: number | undefined, onProgress?: LoadOptions["onProgress"]): Promise<Segment> {
  const file = FILES[kind];
  let sink!: AnySink;
  let at: number[] = [];
  const encoder = new TextEncoder();
  let scratch = new Uint8Array(1 << 16);
  let fs!: Int32Array, fe!: Int32Array;
  const line = new Float64Array(1);
  await streamCsv({
    path,
    file,
    onProgress,
    onHeader: (header, line) => {
      const layout = layoutFor(kind, header, line);
      at = layout.at;
      sink = sinkFor(layout, onlyDay);
      fs = new Int32Array(at.length);
      fe = new Int32Array(at.length);
    },
    onRows: (rows, lines) => {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        let used = 0;
        for (let k = 0; k < at.length; k++) {
          const cell = at[k]! >= 0 ? (row[at[k]!] ?? "") : "";
          if (scratch.length - used < cell.length * 3) {
            const next = new Uint8Array(Math.max(scratch.length * 2, used + cell.length * 3));
            next.set(scratch.subarray(0, used));
            scratch = next;
          }
          const { written } = encoder.encodeInto(cell, scratch.subarray(used));
          fs[k] = used;
          fe[k] = used + written;
          used += written;
        }
        line[0] = lines[r]!;
        sink.rows(scratch, fs, fe, line, 1, at.length);
      }
    },
  });
  return { kind, quality: sink.q, usable: sink.usable, cols: sink.cols(), start: 0, end: 0, stopAt: 0, newlines: 0, lineBase: 0 };
}

/** What the main thread learns from a file's head before reading it: the fast plan, or the fallback. */
export type ReadPlan =
  | { fast: true; size: number; layout: Layout; crlf: boolean; dataStart: number; headerLine: number; lineBytes: number }
  | { fast: false; size: number; reason: string };

/** Probes a file's head; a regular file's header is resolved here (missing columns throw). */
export async function planRead(kind: FileKind, path: string): Promise<ReadPlan> {
  const file = FILES[kind];
  const size = await inputSize(path, file);
  const fh = await open(path, "r");
  let head: Uint8Array;
  try {
    const want = Math.min(size, PROBE_BYTES);
    head = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(head, got, want - got, got);
      if (bytesRead <= 0) break;
      got += bytesRead;
    }
    head = head.subarray(0, got);
  } finally {
    await fh.close();
  }
  const probe = probeHeader(head, size);
  if (!probe.ok) return { fast: false, size, reason: probe.reason };
  const layout = layoutFor(kind, probe.header.split(",").map(normaliseHeader), 1);
  let lines = 0;
  for (let at = head.indexOf(10, probe.dataStart); at !== -1; at = head.indexOf(10, at + 1)) lines++;
  const lineBytes = Math.max(2, (head.length - probe.dataStart) / Math.max(1, lines));
  return { fast: true, size, layout, crlf: probe.crlf, dataStart: probe.dataStart, headerLine: 1, lineBytes };
}

/** Segment tasks of a fast plan: byte ranges of about `bytes` each. */
export function segmentTasks(kind: FileKind, path: string, plan: Extract<ReadPlan, { fast: true }>, onlyDay: number | undefined, bytes: number): SegmentTask[] {
  const { size, dataStart } = plan;
  const count = Math.max(1, Math.ceil((size - dataStart) / bytes));
  const step = Math.ceil((size - dataStart) / count);
  const tasks: SegmentTask[] = [];
  for (let k = 0; k < count; k++) {
    const from = dataStart + k * step;
    tasks.push({
      kind, path, size, layout: plan.layout, crlf: plan.crlf, dataStart, onlyDay,
      from, to: k === count - 1 ? size : Math.min(size, from + step), speculative: true, lineBytes: plan.lineBytes,
    });
  }
  return tasks;
}

/**
 * Chains speculative segment reads into the file's exact segments: segment k is right when it
 * starts where segment k-1 ended; otherwise (its start fell inside a quoted field) it is read
 * again from the right start. null: the file is irregular (read it whole with papaparse).
 */
export async function chainSegments(
  plan: Extract<ReadPlan, { fast: true }>,
  tasks: SegmentTask[],
  results: Promise<Segment | Irregular>[],
  reread: (task: SegmentTask) => Promise<Segment | Irregular>,
): Promise<Segment[] | null> {
  const out: Segment[] = [];
  let expected = plan.dataStart;
  let lineBase = plan.headerLine + 1;
  for (let k = 0; k < tasks.length; k++) {
    let r = await results[k]!;
    if (r.start !== expected || ("irregular" in r && r.irregular.startsWith("record longer"))) {
      r = await reread({ ...tasks[k]!, forcedStart: expected, stopAt: Math.max(expected, r.stopAt), speculative: false });
    }
    if ("irregular" in r) return null;
    r.lineBase = lineBase;
    lineBase += r.newlines;
    expected = r.end;
    out.push(r);
  }
  return out;
}

/** Reads a file in this thread (tests and small callers): the fast reader in one segment, or papaparse. */
export async function loadLocal(kind: FileKind, path: string, options: LoadOptions = {}): Promise<Loaded> {
  const plan = await planRead(kind, path);
  let segments: Segment[] | null = null;
  if (plan.fast) {
    const tasks = segmentTasks(kind, path, plan, options.onlyDay, Infinity);
    const run = (t: SegmentTask) => Promise.resolve(readSegment(t));
    segments = await chainSegments(plan, tasks, tasks.map(run), run);
    if (segments) noDataCheck(kind, plan, segments);
  }
  segments ??= [await readWhole(kind, path, options.onlyDay, options.onProgress)];
  // a local table needs no shared memory, but the same merge keeps one code path
  const loaded = mergeSegments(kind, segments);
  options.onProgress?.(plan.size, plan.size, loaded.quality.rows);
  return loaded;
}

/** A regular file with a header and no data row: the same error papaparse's path gives. */
export function noDataCheck(kind: FileKind, plan: Extract<ReadPlan, { fast: true }>, segments: Segment[]): void {
  if (segments.every((s) => s.quality.rows === 0)) {
    throw new PipelineInputError(FILES[kind], plan.headerLine, undefined, "no data rows (header only)");
  }
}

// ---------------------------------------------------------------- merge

function mergeQuality(segments: Segment[]): FileQuality {
  const q = newQuality();
  for (const s of segments) {
    q.rows += s.quality.rows;
    q.skipped += s.quality.skipped;
    q.bad_time += s.quality.bad_time;
    q.bad_number += s.quality.bad_number;
    if (!q.firstBad && s.quality.firstBad) q.firstBad = { ...s.quality.firstBad, line: s.quality.firstBad.line + s.lineBase };
  }
  return q;
}

/** The parts one after another in `out` (a shared array of their total length). */
function concatInto<T extends Float64Array | Int32Array | Uint8Array>(out: T, parts: T[]): T {
  let at = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, at);
    at += p.length;
  }
  return out;
}

function concatBytes(parts: BytesColumn[], n: number): BytesColumn {
  let total = 0;
  for (const p of parts) total += p.bytes.length;
  if (total > 0xffffffff) throw new RangeError("string column beyond 4 GiB");
  const bytes = sharedU8(total);
  const offsets = sharedU32(n + 1);
  let at = 0, row = 0;
  for (const p of parts) {
    bytes.set(p.bytes, at);
    const o = p.offsets;
    for (let i = 1; i < o.length; i++) offsets[row + i] = o[i]! + at;
    at += p.bytes.length;
    row += o.length - 1;
  }
  return { bytes, offsets };
}

/** Segment campaign codes into one code space over the raw values (first appearance in file order). */
function concatCampaigns(parts: { campaign: Uint32Array; campaignRaw: string[] }[], n: number): { codes: Uint32Array; raw: string[] } {
  const interner = new Interner();
  const codes = sharedU32(n);
  let at = 0;
  for (const p of parts) {
    const remap = Uint32Array.from(p.campaignRaw, (v) => interner.code(v));
    const c = p.campaign;
    for (let i = 0; i < c.length; i++) codes[at + i] = remap[c[i]!]!;
    at += c.length;
  }
  return { codes, raw: interner.values };
}

/** Per row: 1 when its receipt is one of the chargeback receipts (rule 4; empty receipts never are). */
function chargedRows(receipt: BytesColumn, receiptHash: Int32Array, chargebacks: BytesColumn[]): Uint8Array {
  const n = receiptHash.length;
  const out = sharedU8(n);
  const set = new ByteDict();
  for (const c of chargebacks) {
    for (let i = 0; i + 1 < c.offsets.length; i++) {
      const s = c.offsets[i]!, e = c.offsets[i + 1]!;
      const h = hashBytes(c.bytes, s, e);
      if (set.find(c.bytes, s, e, h) < 0) set.add(c.bytes, s, e, h, 1);
    }
  }
  if (set.size === 0) return out;
  const { bytes, offsets } = receipt;
  for (let i = 0; i < n; i++) if (set.find(bytes, offsets[i]!, offsets[i + 1]!, receiptHash[i]!) >= 0) out[i] = 1;
  return out;
}

/** Merges a file's segments (file order) into its table. */
export function mergeSegments(kind: FileKind, segments: Segment[]): Loaded {
  const quality = mergeQuality(segments);
  const usable = segments.reduce((s, x) => s + x.usable, 0);
  let table: Table;
  switch (kind) {
    case "purchases": {
      const cols = segments.map((s) => s.cols as PurchasesCols);
      const n = cols.reduce((s, c) => s + c.n, 0);
      const campaign = concatCampaigns(cols, n);
      const receipt = concatBytes(cols.map((c) => c.receipt), n);
      const receiptHash = concatInto(sharedI32(n), cols.map((c) => c.receiptHash));
      const t: PurchasesTable = {
        kind,
        n,
        afid: concatBytes(cols.map((c) => c.afid), n),
        afidHash: concatInto(sharedI32(n), cols.map((c) => c.afidHash)),
        flags: concatInto(sharedU8(n), cols.map((c) => c.flags)),
        time: concatInto(sharedF64(n), cols.map((c) => c.time)),
        revenue: concatInto(sharedF64(n), cols.map((c) => c.revenue)),
        campaign: campaign.codes,
        campaignDict: renormalise(campaign.codes, campaign.raw, normaliseCampaign),
        receipt,
        charged: chargedRows(receipt, receiptHash, cols.map((c) => c.chargebacks)),
      };
      table = t;
      break;
    }
    case "confirmed": {
      const cols = segments.map((s) => s.cols as ConfirmedCols);
      const n = cols.reduce((s, c) => s + c.n, 0);
      const t: ConfirmedTable = {
        kind,
        n,
        afid: concatBytes(cols.map((c) => c.afid), n),
        afidHash: concatInto(sharedI32(n), cols.map((c) => c.afidHash)),
        time: concatInto(sharedF64(n), cols.map((c) => c.time)),
        revenue: concatInto(sharedF64(n), cols.map((c) => c.revenue)),
        receipt: concatBytes(cols.map((c) => c.receipt), n),
      };
      table = t;
      break;
    }
    case "costs": {
      const cols = segments.map((s) => s.cols as CostsCols);
      const n = cols.reduce((s, c) => s + c.n, 0);
      const campaign = concatCampaigns(cols, n);
      const t: CostsTable = {
        kind,
        n,
        day: concatInto(sharedF64(n), cols.map((c) => c.day)),
        campaign: campaign.codes,
        campaignDict: renormalise(campaign.codes, campaign.raw, normaliseCampaign),
        cost: concatInto(sharedF64(n), cols.map((c) => c.cost)),
      };
      table = t;
      break;
    }
    case "sessions": {
      const cols = segments.map((s) => s.cols as SessionsCols);
      const n = cols.reduce((s, c) => s + c.n, 0);
      const withCampaign = cols[0]!.campaign !== null;
      const campaign = withCampaign ? concatCampaigns(cols as { campaign: Uint32Array; campaignRaw: string[] }[], n) : null;
      const t: SessionsTable = {
        kind,
        n,
        day: concatInto(sharedF64(n), cols.map((c) => c.day)),
        user: concatBytes(cols.map((c) => c.user), n),
        userHash: concatInto(sharedI32(n), cols.map((c) => c.userHash)),
        campaign: campaign ? campaign.codes : null,
        campaignDict: campaign ? renormalise(campaign.codes, campaign.raw, normaliseCampaign) : null,
      };
      table = t;
      break;
    }
  }
  return { table, quality, usable };
}

// ---------------------------------------------------------------- one-thread entry points (tests)

/** Reads purchases_raw.csv. */
export async function loadPurchases(path: string, options: LoadOptions = {}): Promise<Loaded<PurchasesTable>> {
  return (await loadLocal("purchases", path, options)) as Loaded<PurchasesTable>;
}

/** Reads confirmed_purchases.csv (event_name and campaign, when present, are not used). */
export async function loadConfirmed(path: string, options: LoadOptions = {}): Promise<Loaded<ConfirmedTable>> {
  return (await loadLocal("confirmed", path, options)) as Loaded<ConfirmedTable>;
}

/** Reads costs_daily.csv. */
export async function loadCosts(path: string, options: LoadOptions = {}): Promise<Loaded<CostsTable>> {
  return (await loadLocal("costs", path, options)) as Loaded<CostsTable>;
}

/** Reads sessions.csv: the timestamp column wins over the date column when both exist. */
export async function loadSessions(path: string, options: LoadOptions = {}): Promise<Loaded<SessionsTable>> {
  return (await loadLocal("sessions", path, options)) as Loaded<SessionsTable>;
}
