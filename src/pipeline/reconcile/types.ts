/** The reconciliation's data across the worker boundary: partition tasks, their results, the summary. */
import type { BytesColumn } from "../columns/bytes.ts";

/** Detail kinds, in their tie-break order. */
export const MATCHED = 0,
  AF_ONLY = 1,
  CONFIRMED_ONLY = 2;

/** One side of a partition: the table's id, id hash and time columns (shared), and the partition's rows of it. */
export interface Side {
  ids: BytesColumn;
  hash: Int32Array;
  time: Float64Array;
  /** row indices of the table in this partition, ascending (= file order) */
  rows: Uint32Array;
  /** to render the details: receipts and revenue by row (the AF side's after chargebacks) */
  receipt?: BytesColumn;
  revenue?: Float64Array;
}

/** What a worker receives: both sides of one partition and the tolerance; `render`: write the detail lines too. */
export interface PartitionTask {
  af: Side;
  conf: Side;
  toleranceSec: number;
  render?: boolean;
}

/** Details in output order. */
export interface Details {
  type: Uint8Array;
  /** purchases row index, -1 for confirmed_only */
  afRow: Int32Array;
  /** confirmed row index, -1 for af_only */
  confRow: Int32Array;
}

/**
 * One partition's result: its details sorted and, per distinct appsflyer_id in sorted order,
 * where its run of details starts (runs[g]..runs[g+1]). Partitions are id ranges in order
 * (partition.ts), so the results one after the other are in output order.
 */
export interface PartitionResult extends Details {
  runs: Uint32Array;
  /** when rendered: the detail lines (see format/reconciliation-json.ts RenderedPart) and the partition's summary */
  bytes?: Uint8Array;
  summary?: ReconSummary;
}

/** The reconciliation summary, exact (micro-dollars). */
export interface ReconSummary {
  matched: number;
  afOnly: number;
  confirmedOnly: number;
  matchedMicro: number;
  afOnlyMicro: number;
  confirmedOnlyMicro: number;
  revenueMismatches: number;
}

/** All counts and sums zero. */
export function emptySummary(): ReconSummary {
  return {
    matched: 0,
    afOnly: 0,
    confirmedOnly: 0,
    matchedMicro: 0,
    afOnlyMicro: 0,
    confirmedOnlyMicro: 0,
    revenueMismatches: 0,
  };
}
