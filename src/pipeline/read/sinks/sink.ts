/** What every file kind's row logic shares: the quality counts, column sizing, the skip rule. */
import type { BadReason, FileQuality } from "../../tables.ts";
import type { RowSink } from "../csvfast.ts";

/** Zero counts for quality.json. */
export function newQuality(): FileQuality {
  return { rows: 0, skipped: 0, bad_time: 0, bad_number: 0 };
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

export const DEFAULT_SIZING: Sizing = { rows: 1 << 14, bytes: 1 << 18 };

/**
 * Row logic of one file kind. Each class has its own rows() loop (a shared one in the base class
 * would make its call to row() polymorphic, and the JIT recompiles polymorphic hot code).
 * Slot k of the record at offset o is bytes [fs[o + k], fe[o + k]) of b.
 */
export abstract class Sink implements RowSink {
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
