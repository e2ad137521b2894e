/**
 * SPEC 4 rule 6: one-to-one reconciliation of curated purchases with confirmed purchases per
 * appsflyer_id. Candidate pairs (|dt| <= tolerance, inclusive) are taken in order of |dt|, AF
 * time, confirmed time, AF file order, confirmed file order; each row matches at most once.
 * A worker matches one partition (partition.ts) and returns its details already sorted
 * (appsflyer_id, time, type, file order); partitions are id ranges in order, so their details
 * one after the other are the output. Every order is by data only, so the partitioning never
 * shows in the output.
 *
 * Inside a partition everything is typed arrays and sorts by integer keys: ids are grouped with
 * a hash table (bytes compared on a hash hit), the distinct ids are sorted by their bytes
 * (MSD radix: sort/by-bytes.ts), and the rows by (id rank, time, file order).
 */
import { scratch } from "../columns/memory.ts";
import { sortByBytes } from "../sort/by-bytes.ts";
import { insertionSort } from "../sort/insertion.ts";
import { groupIds } from "./group-ids.ts";
import { type Cand, matchGroup } from "./match-group.ts";
import { renderDetails } from "./render.ts";
import {
  AF_ONLY,
  CONFIRMED_ONLY,
  type Details,
  MATCHED,
  type PartitionResult,
  type PartitionTask,
  type Side,
} from "./types.ts";

/**
 * Matches one partition and returns its details sorted by appsflyer_id (code-unit order), time
 * (a match by its AF time), type, then file order. Pure: the worker task and tests call it.
 * Combined index: i < nAf is AF row af.rows[i], otherwise confirmed row conf.rows[i - nAf]; both
 * sides are in file order, so combined order is the file-order tie-break.
 *
 * Memory locality decides the speed here: the partition's ids are copied into one local arena,
 * and after grouping every per-row value is gathered into "member order" (the rows of a group
 * side by side), so the per-group work reads contiguous memory.
 */
export function matchPartition(task: PartitionTask): PartitionResult {
  const { af, conf, toleranceSec: tol } = task;
  const nAf = af.rows.length,
    nConf = conf.rows.length,
    n = nAf + nConf;
  // this partition's ids, times, hashes and rows in combined order, local and dense
  // working arrays are thread scratch memory (reused by the next partition this thread runs)
  const time = scratch(Float64Array, "time", n),
    hash = scratch(Int32Array, "hash", n);
  const row = scratch(Int32Array, "row", n),
    off = scratch(Uint32Array, "off", n + 1);
  off[0] = 0;
  let total = 0;
  // Written out once per side on purpose (hot: every row of the partition): no per-row side test.
  for (let i = 0; i < nAf; i++) {
    const r = af.rows[i]!;
    row[i] = r;
    time[i] = af.time[r]!;
    hash[i] = af.hash[r]!;
    total += af.ids.offsets[r + 1]! - af.ids.offsets[r]!;
    off[i + 1] = total;
  }
  for (let i = 0; i < nConf; i++) {
    const r = conf.rows[i]!;
    row[nAf + i] = r;
    time[nAf + i] = conf.time[r]!;
    hash[nAf + i] = conf.hash[r]!;
    total += conf.ids.offsets[r + 1]! - conf.ids.offsets[r]!;
    off[nAf + i + 1] = total;
  }
  const ids = scratch(Uint8Array, "ids", total);
  copyIds(ids, off, 0, af);
  copyIds(ids, off, nAf, conf);

  // group equal ids; the distinct ids land in a compact arena of their own
  const { group, count, keys, keyOff } = groupIds(ids, off, hash, n);
  // groups in code-unit order of their ids
  const ranked = sortByBytes(keys, keyOff.subarray(0, count), keyOff.subarray(1, count + 1), count);
  const rankOf = scratch(Int32Array, "rankOf", count);
  for (let r = 0; r < count; r++) rankOf[ranked[r]!] = r;

  // members in output order: by group rank (counting sort, combined order kept inside a group);
  // from here on every pass reads the member arrays in order
  const gStart = scratch(Uint32Array, "gStart", count + 1, true); // by rank
  for (let i = 0; i < n; i++) gStart[rankOf[group[i]!]! + 1]!++;
  for (let g = 0; g < count; g++) gStart[g + 1]! += gStart[g]!;
  const mIdx = scratch(Uint32Array, "mIdx", n);
  {
    const fill = gStart.slice(0, count);
    for (let i = 0; i < n; i++) mIdx[fill[rankOf[group[i]!]!]!++] = i;
  }
  const mTime = scratch(Float64Array, "mTime", n);
  for (let x = 0; x < n; x++) mTime[x] = time[mIdx[x]!]!;
  // each group's members by (time, combined index)
  const byTime = memberOrder(mIdx, mTime);
  for (let g = 0; g < count; g++) {
    const a = gStart[g]!,
      b = gStart[g + 1]!;
    if (b - a > 1) sortRun(mIdx, mTime, a, b, byTime);
  }
  const mRow = scratch(Int32Array, "mRow", n);
  for (let x = 0; x < n; x++) mRow[x] = row[mIdx[x]!]!;

  // matching, group by group: mMatch[x] = member position of the confirmed row AF member x took
  const mMatch = scratch(Int32Array, "mMatch", n).fill(-1);
  const mTaken = scratch(Uint8Array, "mTaken", n, true);
  const ao: number[] = [],
    co: number[] = [];
  const cand: Cand = { af: [], conf: [], dt: [], order: [] };
  let taken = 0;
  for (let g = 0; g < count; g++) {
    const a = gStart[g]!,
      b = gStart[g + 1]!;
    if (b - a < 2) continue;
    let afs = 0;
    for (let x = a; x < b; x++) if (mIdx[x]! < nAf) afs++;
    if (afs === 0 || afs === b - a) continue;
    if (b - a === 2) {
      // the common case: one purchase, one confirmation
      const x = mIdx[a]! < nAf ? a : a + 1,
        y = x === a ? a + 1 : a;
      if (Math.abs(mTime[x]! - mTime[y]!) <= tol) {
        mMatch[x] = y;
        mTaken[y] = 1;
        taken++;
      }
      continue;
    }
    ao.length = 0;
    co.length = 0;
    for (let x = a; x < b; x++) {
      if (mIdx[x]! < nAf) ao.push(x);
      else co.push(x);
    }
    taken += matchGroup(ao, co, mTime, mIdx, tol, mMatch, mTaken, cand);
  }

  // details: group by group in id order; inside a group by time, type, file order
  const details = n - taken;
  const out: PartitionResult = {
    type: new Uint8Array(details),
    afRow: new Int32Array(details),
    confRow: new Int32Array(details),
    runs: new Uint32Array(count + 1),
  };
  const dTime = scratch(Float64Array, "dTime", details);
  const dPos = scratch(Int32Array, "dPos", details); // member position of each detail (its AF row's for a match)
  let k = 0;
  for (let g = 0; g < count; g++) {
    out.runs[g] = k;
    const from = gStart[g]!,
      to = gStart[g + 1]!;
    const runStart = k;
    let ties = false;
    for (let x = from; x < to; x++) {
      if (mIdx[x]! < nAf) {
        const m = mMatch[x]!;
        out.type[k] = m === -1 ? AF_ONLY : MATCHED;
        out.afRow[k] = mRow[x]!;
        out.confRow[k] = m === -1 ? -1 : mRow[m]!;
      } else {
        if (mTaken[x]) continue;
        out.type[k] = CONFIRMED_ONLY;
        out.afRow[k] = -1;
        out.confRow[k] = mRow[x]!;
      }
      dTime[k] = mTime[x]!;
      dPos[k] = x;
      if (k > runStart && dTime[k - 1] === dTime[k]) ties = true;
      k++;
    }
    // equal times: matched < af_only < confirmed_only, file order kept (members are in combined order already)
    if (ties) settleTypes(out, dTime, dPos, runStart, k);
  }
  out.runs[count] = details;
  if (task.render) renderDetails(task, out, dPos, mIdx, mTime, mMatch, row, nAf, ranked, keys, keyOff);
  return out;
}

/** Copies one side's ids (its rows, in order) into the partition's arena at combined index `base`. */
function copyIds(ids: Uint8Array, off: Uint32Array, base: number, side: Side): void {
  const src = side.ids.bytes,
    so = side.ids.offsets;
  for (let i = 0; i < side.rows.length; i++) {
    const r = side.rows[i]!;
    let at = off[base + i]!;
    for (let j = so[r]!, e = so[r + 1]!; j < e; j++) ids[at++] = src[j]!;
  }
}

/** Member positions ordered by (time, combined index), as insertionSort takes them; mIdx and mTime move together. */
function memberOrder(mIdx: Uint32Array, mTime: Float64Array) {
  return {
    after: (x: number, y: number) => mTime[x]! > mTime[y]! || (mTime[x] === mTime[y] && mIdx[x]! > mIdx[y]!),
    swap: (x: number, y: number) => {
      const i = mIdx[x]!,
        t = mTime[x]!;
      mIdx[x] = mIdx[y]!;
      mTime[x] = mTime[y]!;
      mIdx[y] = i;
      mTime[y] = t;
    },
  };
}

/**
 * Sorts members[a..b) (with their times) by (time, combined index): insertion sort, groups are
 * small; a comparator sort when big.
 */
function sortRun(
  mIdx: Uint32Array,
  mTime: Float64Array,
  a: number,
  b: number,
  order: ReturnType<typeof memberOrder>,
): void {
  if (b - a > 48) {
    const run = Array.from(mIdx.subarray(a, b), (i, x) => ({ i, t: mTime[a + x]! }));
    run.sort((x, y) => x.t - y.t || x.i - y.i);
    run.forEach((m, x) => {
      mIdx[a + x] = m.i;
      mTime[a + x] = m.t;
    });
    return;
  }
  insertionSort(a, b, order.after, order.swap);
}

/** Inside one id's details (time-ordered), orders runs of equal time by type; stable. */
function settleTypes(d: Details, dTime: Float64Array, dPos: Int32Array, from: number, to: number): void {
  const after = (x: number, y: number) => d.type[x]! > d.type[y]!;
  const swap = (x: number, y: number) => {
    swapAt(d.type, x, y);
    swapAt(d.afRow, x, y);
    swapAt(d.confRow, x, y);
    swapAt(dPos, x, y);
  };
  for (let a = from; a < to; ) {
    const t = dTime[a]!;
    let b = a + 1;
    while (b < to && dTime[b] === t) b++;
    insertionSort(a, b, after, swap);
    a = b;
  }
}

function swapAt(a: Uint8Array | Int32Array, x: number, y: number): void {
  const v = a[x]!;
  a[x] = a[y]!;
  a[y] = v;
}
