/** Row logic of sessions.csv: the timestamp column wins over the date column when both exist. */
import { ColumnBuilder } from "../../columns/builder.ts";
import { BytesBuilder, type BytesColumn } from "../../columns/bytes.ts";
import { parseDateBytes, parseTimeBytes, SECONDS_PER_DAY } from "../../normalise.ts";
import type { Layout } from "../layout.ts";
import { Campaigns } from "./cells.ts";
import { Sink, type Sizing } from "./sink.ts";

/** Columns of a sessions segment (only the rows of `onlyDay` when one is given). */
export interface SessionsCols {
  n: number;
  day: Float64Array;
  user: BytesColumn;
  userHash: Int32Array;
  campaign: Uint32Array | null;
  campaignRaw: string[] | null;
}

export class SessionsSink extends Sink {
  private readonly day: ColumnBuilder<Float64Array>;
  private readonly user: BytesBuilder;
  private readonly userHash: ColumnBuilder<Int32Array>;
  private readonly campaign: ColumnBuilder<Uint32Array>;
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
    this.day = new ColumnBuilder(Float64Array, rows);
    this.user = new BytesBuilder(size.bytes);
    this.userHash = new ColumnBuilder(Int32Array, rows);
    this.campaign = new ColumnBuilder(Uint32Array, rows);
    this.hasCampaign = layout.at[2]! !== -1;
    this.timestamp = layout.timestamp;
    this.timeName = layout.timestamp ? "event_timestamp_utc" : "date";
  }
  rows(buf: Uint8Array, fs: Int32Array, fe: Int32Array, lines: Float64Array, n: number, slots: number): void {
    for (let r = 0; r < n; r++) this.row(buf, fs, fe, r * slots, lines[r]!);
  }
  row(b: Uint8Array, fs: Int32Array, fe: Int32Array, o: number, line: number): void {
    this.q.rows++;
    const d = this.timestamp
      ? Math.floor(parseTimeBytes(b, fs[o + 1]!, fe[o + 1]!) / SECONDS_PER_DAY)
      : parseDateBytes(b, fs[o + 1]!, fe[o + 1]!);
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
