/** Row logic of costs_daily.csv. */
import { ColumnBuilder } from "../../columns/builder.ts";
import { parseDateBytes, parseMoneyBytes } from "../../normalise.ts";
import type { Layout } from "../layout.ts";
import { Campaigns } from "./cells.ts";
import { Sink } from "./sink.ts";

/** Columns of a costs segment. */
export interface CostsCols {
  n: number;
  day: Float64Array;
  cost: Float64Array;
  campaign: Uint32Array;
  campaignRaw: string[];
}

export class CostsSink extends Sink {
  private readonly day = new ColumnBuilder(Float64Array);
  private readonly cost = new ColumnBuilder(Float64Array);
  private readonly campaign = new ColumnBuilder(Uint32Array);
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
    const { day, cost, campaign, campaigns } = this;
    return { n: day.length, day: day.view(), cost: cost.view(), campaign: campaign.view(), campaignRaw: campaigns.raw };
  }
}
