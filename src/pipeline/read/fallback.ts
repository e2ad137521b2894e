/** The papaparse fallback: a file the fast reader does not take, read whole into the same row logic. */
import { FILES, type FileKind } from "../tables.ts";
import { layoutFor } from "./layout.ts";
import { type ReadProgress, streamCsv } from "./papaparse.ts";
import type { Segment } from "./segment.ts";
import { type AnySink, sinkFor } from "./sinks/sink-for.ts";

/**
 * Reads a whole file through papaparse (the fallback for files the fast reader does not take):
 * each row's wanted cells are re-encoded to UTF-8 and go through the same row logic. Lines are
 * absolute (lineBase 0).
 */
export async function readWhole(
  kind: FileKind,
  path: string,
  onlyDay: number | undefined,
  onProgress?: ReadProgress,
): Promise<Segment> {
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
  const { q: quality, usable } = sink;
  return { kind, quality, usable, cols: sink.cols(), start: 0, end: 0, stopAt: 0, newlines: 0, lineBase: 0 };
}
