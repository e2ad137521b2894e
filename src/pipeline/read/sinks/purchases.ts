/** Row logic of purchases_raw.csv (SPEC 4.1 validity; the chargeback receipts of rule 4 are collected here). */
import { ColumnBuilder } from "../../columns/builder.ts";
import { BytesBuilder, type BytesColumn } from "../../columns/bytes.ts";
import { normaliseKeyword, parseMoneyBytes, parseTimeBytes } from "../../normalise.ts";
import { EVENT_PURCHASE, STATUS_CHARGEBACK, STATUS_SUCCESS } from "../../tables.ts";
import type { Layout } from "../layout.ts";
import { Campaigns, isBlankBytes, Keyword } from "./cells.ts";
import { Sink, type Sizing } from "./sink.ts";

function statusFlag(raw: string): number {
  const k = normaliseKeyword(raw);
  return k === "success" ? STATUS_SUCCESS : k === "chargeback" ? STATUS_CHARGEBACK : 0;
}

function eventFlag(raw: string): number {
  return normaliseKeyword(raw) === "purchase" ? EVENT_PURCHASE : 0;
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

export class PurchasesSink extends Sink {
  private readonly time: ColumnBuilder<Float64Array>;
  private readonly revenue: ColumnBuilder<Float64Array>;
  private readonly flags: ColumnBuilder<Uint8Array>;
  private readonly campaign: ColumnBuilder<Uint32Array>;
  private readonly afid: BytesBuilder;
  private readonly afidHash: ColumnBuilder<Int32Array>;
  private readonly receipt: BytesBuilder;
  private readonly receiptHash: ColumnBuilder<Int32Array>;
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
    this.time = new ColumnBuilder(Float64Array, rows);
    this.revenue = new ColumnBuilder(Float64Array, rows);
    this.flags = new ColumnBuilder(Uint8Array, rows);
    this.campaign = new ColumnBuilder(Uint32Array, rows);
    this.afid = new BytesBuilder(size.bytes);
    this.afidHash = new ColumnBuilder(Int32Array, rows);
    this.receipt = new BytesBuilder(size.bytes);
    this.receiptHash = new ColumnBuilder(Int32Array, rows);
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
