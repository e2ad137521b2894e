/** The row logic of a file kind. */
import type { Layout } from "../layout.ts";
import { type ConfirmedCols, ConfirmedSink } from "./confirmed.ts";
import { type CostsCols, CostsSink } from "./costs.ts";
import { type PurchasesCols, PurchasesSink } from "./purchases.ts";
import { type SessionsCols, SessionsSink } from "./sessions.ts";
import { DEFAULT_SIZING, type Sizing } from "./sink.ts";

export type AnySink = PurchasesSink | ConfirmedSink | CostsSink | SessionsSink;

export function sinkFor(layout: Layout, onlyDay: number | undefined, size: Sizing = DEFAULT_SIZING): AnySink {
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

/** The columns a segment's row logic produced. */
export type SegmentCols = PurchasesCols | ConfirmedCols | CostsCols | SessionsCols;
