/**
 * Read planning (main thread): a file's head is probed; a regular file is cut into segment tasks
 * read in parallel and chained back into its exact segments; anything else goes to the fallback.
 */
import { open } from "node:fs/promises";
import { PipelineInputError } from "../errors.ts";
import { FILES, type FileKind } from "../tables.ts";
import { PROBE_BYTES, probeHeader } from "./csvfast.ts";
import { inputSize } from "./io.ts";
import { type Layout, layoutFor, normaliseHeader } from "./layout.ts";
import type { Irregular, Segment, SegmentTask } from "./segment.ts";

/** What the main thread learns from a file's head before reading it: the fast plan, or the fallback. */
/** A file the fast reader takes: its size, layout, line ending, where the data starts, bytes per line. */
export interface FastPlan {
  fast: true;
  size: number;
  layout: Layout;
  crlf: boolean;
  dataStart: number;
  headerLine: number;
  lineBytes: number;
}

export type ReadPlan = FastPlan | { fast: false; size: number; reason: string };

/** Probes a file's head; a regular file's header is resolved here (missing columns throw). */
export async function planRead(kind: FileKind, path: string): Promise<ReadPlan> {
  const file = FILES[kind];
  const size = await inputSize(path, file);
  const fh = await open(path, "r");
  let head: Uint8Array;
  try {
    const want = Math.min(size, PROBE_BYTES);
    head = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(head, got, want - got, got);
      if (bytesRead <= 0) break;
      got += bytesRead;
    }
    head = head.subarray(0, got);
  } finally {
    await fh.close();
  }
  const probe = probeHeader(head, size);
  if (!probe.ok) return { fast: false, size, reason: probe.reason };
  const layout = layoutFor(kind, probe.header.split(",").map(normaliseHeader), 1);
  let lines = 0;
  for (let at = head.indexOf(10, probe.dataStart); at !== -1; at = head.indexOf(10, at + 1)) lines++;
  const lineBytes = Math.max(2, (head.length - probe.dataStart) / Math.max(1, lines));
  return { fast: true, size, layout, crlf: probe.crlf, dataStart: probe.dataStart, headerLine: 1, lineBytes };
}

/** Segment tasks of a fast plan: byte ranges of about `bytes` each. */
export function segmentTasks(
  kind: FileKind,
  path: string,
  plan: FastPlan,
  onlyDay: number | undefined,
  bytes: number,
): SegmentTask[] {
  const { size, dataStart } = plan;
  const count = Math.max(1, Math.ceil((size - dataStart) / bytes));
  const step = Math.ceil((size - dataStart) / count);
  const tasks: SegmentTask[] = [];
  for (let k = 0; k < count; k++) {
    const from = dataStart + k * step;
    tasks.push({
      kind,
      path,
      size,
      layout: plan.layout,
      crlf: plan.crlf,
      dataStart,
      onlyDay,
      from,
      to: k === count - 1 ? size : Math.min(size, from + step),
      speculative: true,
      lineBytes: plan.lineBytes,
    });
  }
  return tasks;
}

/**
 * Chains speculative segment reads into the file's exact segments: segment k is right when it
 * starts where segment k-1 ended; otherwise (its start fell inside a quoted field) it is read
 * again from the right start. null: the file is irregular (read it whole with papaparse).
 */
export async function chainSegments(
  plan: FastPlan,
  tasks: SegmentTask[],
  results: Promise<Segment | Irregular>[],
  reread: (task: SegmentTask) => Promise<Segment | Irregular>,
): Promise<Segment[] | null> {
  const out: Segment[] = [];
  let expected = plan.dataStart;
  let lineBase = plan.headerLine + 1;
  for (let k = 0; k < tasks.length; k++) {
    let r = await results[k]!;
    if (r.start !== expected || ("irregular" in r && r.irregular.startsWith("record longer"))) {
      const stopAt = Math.max(expected, r.stopAt);
      r = await reread({ ...tasks[k]!, forcedStart: expected, stopAt, speculative: false });
    }
    if ("irregular" in r) return null;
    r.lineBase = lineBase;
    lineBase += r.newlines;
    expected = r.end;
    out.push(r);
  }
  return out;
}

/** A regular file with a header and no data row: the same error papaparse's path gives. */
export function noDataCheck(kind: FileKind, plan: FastPlan, segments: Segment[]): void {
  if (segments.every((s) => s.quality.rows === 0)) {
    throw new PipelineInputError(FILES[kind], plan.headerLine, undefined, "no data rows (header only)");
  }
}
