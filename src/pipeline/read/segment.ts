/**
 * The fast reader's unit of work: one byte range of a file, scanned by csvfast.ts into the
 * file kind's row logic (worker side). Segments of a file are planned and chained by plan.ts.
 */
import { closeSync, openSync } from "node:fs";
import type { FileKind, FileQuality } from "../tables.ts";
import { isUtf8, SCAN_IRREGULAR, SCAN_NEED_MORE, scanInto } from "./csvfast.ts";
import { lineStartAfter, readAt } from "./io.ts";
import type { Layout } from "./layout.ts";
import { type SegmentCols, sinkFor } from "./sinks/sink-for.ts";

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

/** Reads one segment with the fast reader (worker side). */
export function readSegment(task: SegmentTask): Segment | Irregular {
  const fd = openSync(task.path, "r");
  try {
    const { size } = task;
    const start =
      task.forcedStart ?? (task.from <= task.dataStart ? task.dataStart : lineStartAfter(fd, task.from, size));
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
        if (task.speculative && over >= SPECULATIVE_LIMIT) {
          return { irregular: "record longer than the speculative limit", start, stopAt };
        }
        continue;
      }
      if (sc.status === SCAN_IRREGULAR) return { irregular: sc.reason || "irregular", start, stopAt };
      if (!isUtf8(buf.subarray(0, sc.pos))) return { irregular: "not UTF-8", start, stopAt };
      const { q: quality, usable } = sink;
      const end = start + sc.pos;
      const { kind } = task;
      return { kind, quality, usable, cols: sink.cols(), start, end, stopAt, newlines: sc.newlines, lineBase: 0 };
    }
  } finally {
    closeSync(fd);
  }
}
