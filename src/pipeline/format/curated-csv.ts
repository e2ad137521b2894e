/**
 * purchases_curated.csv (SPEC 4 rule 5 and 4.1 "Outputs"): formatted in row ranges ("chunks")
 * that render on the worker pool in parallel, then are written in order.
 */
import type { BytesColumn } from "../columns/bytes.ts";
import type { Curated } from "../curate.ts";
import type { PurchasesTable } from "../tables.ts";
import { putCsv, putMicro, putTime } from "./bytes.ts";
import { SequentialWriter } from "./direct-io.ts";
import { ascii, Out, put } from "./out.ts";

const encoder = new TextEncoder();

/** A CSV field per RFC 4180: quoted only when it holds a comma, quote, CR or LF. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}

export const CURATED_HEADER = "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback\n";

/** Curated rows [from, to) with the purchases columns they read. */
export interface CuratedChunk {
  kind: "curated";
  afid: BytesColumn;
  receipt: BytesColumn;
  time: Float64Array;
  campaign: Uint32Array;
  campaignDict: string[];
  rows: Uint32Array;
  revenue: Float64Array;
  chargeback: Uint8Array;
}

const T_PURCHASE = ascii(",purchase,");
const T_TRUE = ascii(",true\n");
const T_FALSE = ascii(",false\n");

/**
 * Rows are rendered in batches: first every value a batch reads is gathered into small dense
 * arrays, one column at a time (independent loads: the CPU overlaps their cache misses), and the
 * id bytes are touched so they are in cache; then the batch is written from those arrays. Rows
 * come in output order, which is random in the tables: gathering first beats chasing each row's
 * values one after another. The arrays are module-level (one set per worker thread).
 */
const BATCH = 256;
const gIdS = new Int32Array(BATCH),
  gIdE = new Int32Array(BATCH);
const gRcS = new Int32Array(BATCH),
  gRcE = new Int32Array(BATCH);
const gTime = new Float64Array(BATCH),
  gCamp = new Int32Array(BATCH);
// biome-ignore lint/correctness/noUnusedVariables: a sink, so the warming reads are not optimised away
let touched = 0;

/** Gathers curated rows [from, to) of a chunk into the batch arrays. */
function gatherCurated(ch: CuratedChunk, from: number, to: number): void {
  const rows = ch.rows,
    io = ch.afid.offsets,
    ro = ch.receipt.offsets,
    time = ch.time,
    campaign = ch.campaign;
  // Deliberately separate loops, one column each (not fused): independent loads the CPU overlaps.
  for (let k = from; k < to; k++) {
    const r = rows[k]!;
    gIdS[k - from] = io[r]!;
    gIdE[k - from] = io[r + 1]!;
  }
  for (let k = from; k < to; k++) {
    const r = rows[k]!;
    gRcS[k - from] = ro[r]!;
    gRcE[k - from] = ro[r + 1]!;
  }
  for (let k = from; k < to; k++) gTime[k - from] = time[rows[k]!]!;
  for (let k = from; k < to; k++) gCamp[k - from] = campaign[rows[k]!]!;
  // pull the id bytes into cache
  const ib = ch.afid.bytes,
    rb = ch.receipt.bytes;
  let x = 0;
  for (let k = 0; k < to - from; k++) x ^= ib[gIdS[k]!]! ^ rb[gRcS[k]!]!;
  touched ^= x;
}

/** Writes curated rows [from, to) of a chunk (gathered first). */
function curatedBatch(out: Out, ch: CuratedChunk, campaigns: Uint8Array[], from: number, to: number): void {
  gatherCurated(ch, from, to);
  const idBytes = ch.afid.bytes,
    rcBytes = ch.receipt.bytes,
    revenue = ch.revenue,
    chargeback = ch.chargeback;
  for (let j = from; j < to; j++) {
    const x = j - from;
    const cb = campaigns[gCamp[x]!]!;
    const is = gIdS[x]!,
      ie = gIdE[x]!,
      rs = gRcS[x]!,
      re = gRcE[x]!;
    const buf = out.room(2 * (ie - is + re - rs) + cb.length + 128);
    let at = out.at;
    at = putCsv(buf, at, idBytes, is, ie);
    at = put(buf, at, T_PURCHASE);
    at = putTime(buf, at, gTime[x]!);
    buf[at++] = 44;
    at = putMicro(buf, at, revenue[j]!);
    buf[at++] = 44;
    at = put(buf, at, cb);
    buf[at++] = 44;
    at = putCsv(buf, at, rcBytes, rs, re);
    at = put(buf, at, chargeback[j] ? T_TRUE : T_FALSE);
    out.at = at;
  }
}

/** CSV lines of a curated chunk: revenue as its exact decimal, times canonical, chargeback true/false. */
export function curatedBytes(ch: CuratedChunk): Uint8Array {
  const campaigns = ch.campaignDict.map((c) => ascii(csvField(c))); // escaped once per campaign, not per row
  const n = ch.rows.length;
  const out = new Out(n * 110);
  for (let b0 = 0; b0 < n; b0 += BATCH) curatedBatch(out, ch, campaigns, b0, Math.min(n, b0 + BATCH));
  return out.done();
}

/** Rows per chunk: a few chunks per thread for balance, not so small that per-chunk costs dominate. */
export function chunkSize(n: number, threads: number): number {
  // at most 250k rows (~25 MB): at 10M, eight 1.25M-row chunks left one thread rendering alone at the end
  return Math.min(250_000, Math.max(50_000, Math.ceil(n / (threads * 4))));
}

/** Splits the curated rows into chunks (the row ranges are small copies; the columns are shared). */
export function curatedChunks(p: PurchasesTable, curated: Curated, size: number): CuratedChunk[] {
  const out: CuratedChunk[] = [];
  for (let a = 0; a < curated.n; a += size) {
    const b = Math.min(curated.n, a + size);
    out.push({
      kind: "curated",
      afid: p.afid,
      receipt: p.receipt,
      time: p.time,
      campaign: p.campaign,
      campaignDict: p.campaignDict,
      rows: curated.rows.slice(a, b),
      revenue: curated.revenue.slice(a, b),
      chargeback: curated.chargeback.slice(a, b),
    });
  }
  return out;
}

/**
 * Writes head, the rendered chunks in order, then tail. At most `window` chunks render at once
 * (bounded memory); each is written as soon as it and all before it are done.
 */
export async function writeChunks(
  path: string,
  head: string,
  tail: string,
  chunks: CuratedChunk[],
  render: (ch: CuratedChunk) => Promise<Uint8Array>,
  window: number,
): Promise<void> {
  // every render is queued before the first await: the pool starts on them at once
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => {
    while (next < chunks.length && pending.length < window) {
      const rendering = render(chunks[next++]!);
      rendering.catch(() => {}); // a failure surfaces when its turn is awaited; no unhandled rejection meanwhile
      pending.push(rendering);
    }
  };
  fill();
  const file = new SequentialWriter(path);
  file.append(encoder.encode(head));
  while (pending.length > 0) {
    const bytes = await pending.shift()!;
    fill();
    file.append(bytes);
  }
  file.append(encoder.encode(tail));
  file.close();
}
