/**
 * The columnar tables the loaders produce (one per input file) and the per-file quality counts.
 * Plain typed arrays and string columns, so a table crosses a worker boundary by transfer.
 */
import type { BytesColumn } from "./columns/bytes.ts";

/** The four inputs, by kind, with their file names. */
export const FILES = {
  purchases: "purchases_raw.csv",
  confirmed: "confirmed_purchases.csv",
  costs: "costs_daily.csv",
  sessions: "sessions.csv",
} as const;
export type FileKind = keyof typeof FILES;
export const FILE_KINDS = Object.keys(FILES) as FileKind[];

export type BadReason = "bad_time" | "bad_number";

/** Per-file counts for quality.json, plus where the first skipped row was (for error messages). */
export interface FileQuality {
  rows: number;
  skipped: number;
  bad_time: number;
  bad_number: number;
  firstBad?: { line: number; column: string; reason: BadReason };
}

/** Purchase row flags (bit set in PurchasesTable.flags). */
export const STATUS_SUCCESS = 1;
export const STATUS_CHARGEBACK = 2;
export const EVENT_PURCHASE = 4;

/**
 * purchases_raw.csv, usable rows only, file order. revenue is NaN only for an empty chargeback
 * revenue. appsflyer_id and receipt_id are byte-string columns (exact, as written) with a per-row
 * hash of the id for hash tables and partitioning. The big arrays live in SharedArrayBuffers
 * when the table was loaded on the pool (workers read them without a copy).
 */
export interface PurchasesTable {
  kind: "purchases";
  n: number;
  afid: BytesColumn;
  afidHash: Int32Array;
  flags: Uint8Array;
  time: Float64Array;
  revenue: Float64Array;
  campaign: Uint32Array;
  campaignDict: string[];
  receipt: BytesColumn;
  /** 1 when the row's receipt_id appears on a usable chargeback row (rule 4) */
  charged: Uint8Array;
}

/** confirmed_purchases.csv, used as read (no filter, no dedupe). */
export interface ConfirmedTable {
  kind: "confirmed";
  n: number;
  afid: BytesColumn;
  afidHash: Int32Array;
  time: Float64Array;
  revenue: Float64Array;
  receipt: BytesColumn;
}

/** costs_daily.csv: epoch day, campaign, cost in micro-dollars. */
export interface CostsTable {
  kind: "costs";
  n: number;
  day: Float64Array;
  campaign: Uint32Array;
  campaignDict: string[];
  cost: Float64Array;
}

/** sessions.csv: epoch day and user; campaign only when the file has that column. */
export interface SessionsTable {
  kind: "sessions";
  n: number;
  day: Float64Array;
  user: BytesColumn;
  userHash: Int32Array;
  campaign: Uint32Array | null;
  campaignDict: string[] | null;
}

export type Table = PurchasesTable | ConfirmedTable | CostsTable | SessionsTable;
export interface Loaded<T extends Table = Table> {
  table: T;
  quality: FileQuality;
  /** rows that passed validation (sessions may store fewer: see onlyDay) */
  usable: number;
}
