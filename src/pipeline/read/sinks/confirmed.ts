/** Row logic of confirmed_purchases.csv (used as read: no filter, no dedupe). */
import { ColumnBuilder } from "../../columns/builder.ts";
import { BytesBuilder, type BytesColumn } from "../../columns/bytes.ts";
import { parseMoneyBytes, parseTimeBytes } from "../../normalise.ts";
import type { Layout } from "../layout.ts";
import { Sink, type Sizing } from "./sink.ts";

/** Columns of a confirmed segment. */
export interface ConfirmedCols {
  n: number;
  time: Float64Array;
  revenue: Float64Array;
  afid: BytesColumn;
  afidHash: Int32Array;
  receipt: BytesColumn;
}

export class ConfirmedSink extends Sink {
  private readonly time: ColumnBuilder<Float64Array>;
  private readonly revenue: ColumnBuilder<Float64Array>;
  private readonly afid: BytesBuilder;
  private readonly afidHash: ColumnBuilder<Int32Array>;
  private readonly receipt: BytesBuilder;
  private readonly timeFirst: boolean;
  constructor(layout: Layout, size: Sizing) {
    super();
    this.timeFirst = layout.at[1]! < layout.at[2]!;
    const rows = size.rows;
    this.time = new ColumnBuilder(Float64Array, rows);
    this.revenue = new ColumnBuilder(Float64Array, rows);
    this.afid = new BytesBuilder(size.bytes);
    this.afidHash = new ColumnBuilder(Int32Array, rows);
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
