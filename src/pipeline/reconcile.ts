/**
 * SPEC 4 rule 6: one-to-one reconciliation of curated purchases with confirmed purchases per
 * appsflyer_id. Candidate pairs (|dt| <= tolerance, inclusive) are taken in order of |dt|, AF
 * time, confirmed time, AF file order, confirmed file order; each row matches at most once.
 * Rows are hash-partitioned by appsflyer_id; a worker matches one partition and returns its
 * details already sorted (appsflyer_id, time, type, file order); the main thread merges the
 * sorted partitions. Every order is by data only, so the partitioning never shows in the output.
 *
 * Inside a partition everything is typed arrays and sorts by integer keys: ids are grouped with
 * a hash table (bytes compared on a hash hit), the distinct ids are sorted by their bytes
 * (radix on 12-byte prefixes, then the rest), and the rows by (id rank, time, file order).
 */
import { BYTE_WEIGHT, compareBytes, equalBytes, scratchF64, scratchI32, scratchU32, scratchU8, type BytesColumn } from "./columns.ts";
import { DetailWriter } from "./write.ts";
import type { Curated } from "./curate.ts";
import type { ConfirmedTable, PurchasesTable } from "./tables.ts";
import { identity } from "./sort.ts";

/** Detail kinds, in their tie-break order. */
export const MATCHED = 0, AF_ONLY = 1, CONFIRMED_ONLY = 2;

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
 * where its run of details starts (runs[g]..runs[g+1]) and the id itself (ids[idOff[g], idOff[g+1]),
 * in the same order). Every id lives in exactly one partition, so
 * merging the id runs (not the details) yields the global order.
 */
export interface PartitionResult extends Details {
  runs: Uint32Array;
  ids: Uint8Array;
  idOff: Uint32Array;
  /** when rendered: the detail lines (see write.ts RenderedPart) and the partition's summary */
  bytes?: Uint8Array;
  runBytes?: Float64Array;
  summary?: ReconSummary;
}

/** Splits curated and confirmed rows into `parts` partitions by hash(appsflyer_id). */
export function partitionByAfid(
  p: PurchasesTable,
  curated: Curated,
  c: ConfirmedTable,
  parts: number,
  toleranceSec: number,
  afRevenue?: Float64Array,
): PartitionTask[] {
  const partOf = (hash: number) => (hash >>> 0) % parts;
  const afRows = Uint32Array.from(curated.rows).sort(); // file order: the worker's stable sorts keep it as the last tie-break
  const afCount = new Uint32Array(parts), confCount = new Uint32Array(parts);
  for (let j = 0; j < afRows.length; j++) afCount[partOf(p.afidHash[afRows[j]!]!)]!++;
  for (let i = 0; i < c.n; i++) confCount[partOf(c.afidHash[i]!)]!++;
  const tasks: PartitionTask[] = [];
  for (let k = 0; k < parts; k++) {
    tasks.push({
      af: { ids: p.afid, hash: p.afidHash, time: p.time, rows: new Uint32Array(afCount[k]!), receipt: p.receipt, revenue: afRevenue },
      conf: { ids: c.afid, hash: c.afidHash, time: c.time, rows: new Uint32Array(confCount[k]!), receipt: c.receipt, revenue: c.revenue },
      toleranceSec,
      render: afRevenue !== undefined,
    });
  }
  const fill = new Uint32Array(parts);
  for (let j = 0; j < afRows.length; j++) {
    const row = afRows[j]!, k = partOf(p.afidHash[row]!);
    tasks[k]!.af.rows[fill[k]!++] = row;
  }
  fill.fill(0);
  for (let i = 0; i < c.n; i++) {
    const k = partOf(c.afidHash[i]!);
    tasks[k]!.conf.rows[fill[k]!++] = i;
  }
  return tasks;
}

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
  const nAf = af.rows.length, nConf = conf.rows.length, n = nAf + nConf;
  // this partition's ids, times, hashes and rows in combined order, local and dense
  // working arrays are thread scratch memory (reused by the next partition this thread runs)
  const time = scratchF64("time", n), hash = scratchI32("hash", n), row = scratchI32("row", n), off = scratchU32("off", n + 1);
  off[0] = 0;
  let total = 0;
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
  const ids = scratchU8("ids", total);
  copyIds(ids, off, 0, af);
  copyIds(ids, off, nAf, conf);

  // group equal ids; the distinct ids land in a compact arena of their own
  const { group, count, keys, keyOff } = groupIds(ids, off, hash, n);
  // groups in code-unit order of their ids
  const ranked = sortByBytes(keys, keyOff.subarray(0, count), keyOff.subarray(1, count + 1), count);
  const rankOf = scratchI32("rankOf", count);
  for (let r = 0; r < count; r++) rankOf[ranked[r]!] = r;

  // members in output order: by group rank (counting sort, combined order kept inside a group);
  // from here on every pass reads the member arrays in order
  const gStart = scratchU32("gStart", count + 1, true); // by rank
  for (let i = 0; i < n; i++) gStart[rankOf[group[i]!]! + 1]!++;
  for (let g = 0; g < count; g++) gStart[g + 1]! += gStart[g]!;
  const mIdx = scratchU32("mIdx", n);
  {
    const fill = gStart.slice(0, count);
    for (let i = 0; i < n; i++) mIdx[fill[rankOf[group[i]!]!]!++] = i;
  }
  const mTime = scratchF64("mTime", n);
  for (let x = 0; x < n; x++) mTime[x] = time[mIdx[x]!]!;
  // each group's members by (time, combined index)
  for (let g = 0; g < count; g++) {
    const a = gStart[g]!, b = gStart[g + 1]!;
    if (b - a > 1) sortRun(mIdx, mTime, a, b);
  }
  const mRow = scratchI32("mRow", n);
  for (let x = 0; x < n; x++) mRow[x] = row[mIdx[x]!]!;

  // matching, group by group: mMatch[x] = member position of the confirmed row AF member x took
  const mMatch = scratchI32("mMatch", n).fill(-1);
  const mTaken = scratchU8("mTaken", n, true);
  const ao: number[] = [], co: number[] = [];
  const cand: Cand = { af: [], conf: [], dt: [], order: [] };
  let taken = 0;
  for (let g = 0; g < count; g++) {
    const a = gStart[g]!, b = gStart[g + 1]!;
    if (b - a < 2) continue;
    let afs = 0;
    for (let x = a; x < b; x++) if (mIdx[x]! < nAf) afs++;
    if (afs === 0 || afs === b - a) continue;
    if (b - a === 2) {
      // the common case: one purchase, one confirmation
      const x = mIdx[a]! < nAf ? a : a + 1, y = x === a ? a + 1 : a;
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
    ids: new Uint8Array(keyOff[count]!),
    idOff: new Uint32Array(count + 1),
  };
  const dTime = scratchF64("dTime", details);
  const dPos = scratchI32("dPos", details); // member position of each detail (its AF row's for a match)
  let k = 0;
  for (let g = 0; g < count; g++) {
    out.runs[g] = k;
    const from = gStart[g]!, to = gStart[g + 1]!;
    {
      // the id, into the rank-ordered id arena (the merge compares these, in order)
      const kg = ranked[g]!, ks = keyOff[kg]!, ke = keyOff[kg + 1]!, at = out.idOff[g]!;
      for (let j = ks; j < ke; j++) out.ids[at + j - ks] = keys[j]!;
      out.idOff[g + 1] = at + ke - ks;
    }
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

/**
 * Writes a partition's detail lines (task.render): values gathered into member order first
 * (receipts copied too), so the writing reads memory in order; the summary is added up alongside.
 */
function renderDetails(
  task: PartitionTask,
  out: PartitionResult,
  dPos: Int32Array,
  mIdx: Uint32Array,
  mTime: Float64Array,
  mMatch: Int32Array,
  row: Int32Array,
  nAf: number,
  ranked: Uint32Array,
  keys: Uint8Array,
  keyOff: Uint32Array,
): void {
  const { af, conf } = task;
  const n = mIdx.length, count = ranked.length, details = out.type.length;
  // the tables are read in combined order (their rows ascending: sequential reads), then
  // permuted into member order through local arrays
  const afRev = af.revenue!, confRev = conf.revenue!;
  const rev = scratchF64("rev", n);
  for (let i = 0; i < nAf; i++) rev[i] = afRev[row[i]!]!;
  for (let i = nAf; i < n; i++) rev[i] = confRev[row[i]!]!;
  const mRev = scratchF64("mRev", n);
  for (let x = 0; x < n; x++) mRev[x] = rev[mIdx[x]!]!;
  const afRc = af.receipt!, confRc = conf.receipt!;
  const rcOff = scratchU32("rcOff", n + 1);
  rcOff[0] = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i < nAf ? afRc.offsets : confRc.offsets, r = row[i]!;
    total += o[r + 1]! - o[r]!;
    rcOff[i + 1] = total;
  }
  const rc = scratchU8("rc", total);
  for (let i = 0; i < n; i++) {
    const col = i < nAf ? afRc : confRc, r = row[i]!;
    const src = col.bytes;
    let at = rcOff[i]!;
    for (let j = col.offsets[r]!, e = col.offsets[r + 1]!; j < e; j++) rc[at++] = src[j]!;
  }
  // receipts in member order: offsets from the lengths in member order (a gather over a small
  // array), then the bytes scattered from the combined-order copy (sequential reads, random writes
  // the CPU does not wait for)
  const mRcOff = scratchU32("mRcOff", n + 1);
  mRcOff[0] = 0;
  for (let x = 0; x < n; x++) {
    const i = mIdx[x]!;
    mRcOff[x + 1] = mRcOff[x]! + rcOff[i + 1]! - rcOff[i]!;
  }
  const dst = scratchU32("dst", n); // member-order offset of combined index i
  for (let x = 0; x < n; x++) dst[mIdx[x]!] = mRcOff[x]!;
  const mRc = scratchU8("mRc", total);
  for (let i = 0; i < n; i++) {
    const j0 = rcOff[i]!, len = rcOff[i + 1]! - j0, at = dst[i]!;
    for (let j = 0; j < len; j++) mRc[at + j] = rc[j0 + j]!;
  }
  const s: ReconSummary = { matched: 0, afOnly: 0, confirmedOnly: 0, matchedMicro: 0, afOnlyMicro: 0, confirmedOnlyMicro: 0, revenueMismatches: 0 };
  const w = new DetailWriter(Math.max(1 << 16, details * 320));
  const runBytes = new Float64Array(count + 1);
  const type = out.type, runs = out.runs;
  for (let g = 0; g < count; g++) {
    runBytes[g] = w.size;
    const kg = ranked[g]!;
    w.setId(keys, keyOff[kg]!, keyOff[kg + 1]!);
    for (let d = runs[g]!; d < runs[g + 1]!; d++) {
      const x = dPos[d]!, t = type[d]!, rev = mRev[x]!;
      if (t === CONFIRMED_ONLY) {
        s.confirmedOnly++;
        s.confirmedOnlyMicro += rev;
        w.confirmedOnly(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!);
      } else if (t === AF_ONLY) {
        s.afOnly++;
        s.afOnlyMicro += rev;
        w.afOnly(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!);
      } else {
        const m = mMatch[x]!, crev = mRev[m]!;
        s.matched++;
        s.matchedMicro += rev;
        if (Math.abs(rev - crev) > MISMATCH_OVER) s.revenueMismatches++;
        w.matched(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!, mTime[m]!, crev, mRc, mRcOff[m]!, mRcOff[m + 1]!);
      }
    }
  }
  runBytes[count] = w.size;
  out.bytes = w.done();
  out.runBytes = runBytes;
  out.summary = s;
}

/** Copies one side's ids (its rows, in order) into the partition's arena at combined index `base`. */
function copyIds(ids: Uint8Array, off: Uint32Array, base: number, side: Side): void {
  const src = side.ids.bytes, so = side.ids.offsets;
  for (let i = 0; i < side.rows.length; i++) {
    const r = side.rows[i]!;
    let at = off[base + i]!;
    for (let j = so[r]!, e = so[r + 1]!; j < e; j++) ids[at++] = src[j]!;
  }
}

/** Sorts members[a..b) (with their times) by (time, combined index): insertion sort, groups are small; a comparator sort when big. */
function sortRun(mIdx: Uint32Array, mTime: Float64Array, a: number, b: number): void {
  if (b - a > 48) {
    const run = Array.from(mIdx.subarray(a, b), (i, x) => ({ i, t: mTime[a + x]! }));
    run.sort((x, y) => x.t - y.t || x.i - y.i);
    run.forEach((m, x) => {
      mIdx[a + x] = m.i;
      mTime[a + x] = m.t;
    });
    return;
  }
  for (let x = a + 1; x < b; x++) {
    const v = mIdx[x]!, tv = mTime[x]!;
    let y = x - 1;
    while (y >= a && (mTime[y]! > tv || (mTime[y]! === tv && mIdx[y]! > v))) {
      mIdx[y + 1] = mIdx[y]!;
      mTime[y + 1] = mTime[y]!;
      y--;
    }
    mIdx[y + 1] = v;
    mTime[y + 1] = tv;
  }
}

/** Inside one id's details (time-ordered), orders runs of equal time by type; stable. */
function settleTypes(d: Details, dTime: Float64Array, dPos: Int32Array, from: number, to: number): void {
  for (let a = from; a < to; ) {
    const t = dTime[a]!;
    let b = a + 1;
    while (b < to && dTime[b] === t) b++;
    for (let x = a + 1; x < b; x++) {
      const type = d.type[x]!, ar = d.afRow[x]!, cr = d.confRow[x]!, pos = dPos[x]!;
      let y = x - 1;
      while (y >= a && d.type[y]! > type) {
        d.type[y + 1] = d.type[y]!;
        d.afRow[y + 1] = d.afRow[y]!;
        d.confRow[y + 1] = d.confRow[y]!;
        dPos[y + 1] = dPos[y]!;
        y--;
      }
      d.type[y + 1] = type;
      d.afRow[y + 1] = ar;
      d.confRow[y + 1] = cr;
      dPos[y + 1] = pos;
    }
    a = b;
  }
}

/**
 * Groups equal ids with open addressing on the id hash; on a hash hit the bytes are compared with
 * the group's id, kept in a compact arena of distinct ids (keys[keyOff[g], keyOff[g+1])): the
 * table and that arena are small enough to stay in cache, the rows themselves are read in order.
 * group[i] per combined index; reps[g] = the combined index of the group's first member.
 */
function groupIds(ids: Uint8Array, off: Uint32Array, hash: Int32Array, n: number): { group: Int32Array; reps: Int32Array; count: number; keys: Uint8Array; keyOff: Uint32Array } {
  // sized for the groups (far fewer than rows), doubled when half full
  let size = 1024;
  while (size < n / 4) size *= 2;
  let mask = size - 1;
  let slots = scratchI32("slots", size * 2, true); // [group + 1, hash]
  const group = scratchI32("group", n);
  const reps = scratchI32("reps", n);
  let keys = scratchU8("keys", Math.max(1024, off[n]! >> 2));
  const keyOff = scratchU32("keyOff", n + 1);
  keyOff[0] = 0;
  let count = 0, used = 0;
  for (let i = 0; i < n; i++) {
    if (count * 2 > size) {
      size *= 2;
      mask = size - 1;
      const next = new Int32Array(size * 2);
      for (let at = 0; at < slots.length; at += 2) {
        if (slots[at] === 0) continue;
        let slot = slots[at + 1]! & mask;
        while (next[slot << 1] !== 0) slot = (slot + 1) & mask;
        next[slot << 1] = slots[at]!;
        next[(slot << 1) + 1] = slots[at + 1]!;
      }
      slots = next;
    }
    const h = hash[i]!;
    const s = off[i]!, e = off[i + 1]!;
    let slot = h & mask;
    for (;;) {
      const at = slot << 1;
      const g1 = slots[at]!;
      if (g1 === 0) {
        slots[at] = count + 1;
        slots[at + 1] = h;
        reps[count] = i;
        if (used + e - s > keys.length) {
          const next = new Uint8Array(Math.max(keys.length * 2, used + e - s));
          next.set(keys.subarray(0, used));
          keys = next;
        }
        for (let j = s; j < e; j++) keys[used++] = ids[j]!;
        keyOff[count + 1] = used;
        group[i] = count++;
        break;
      }
      if (slots[at + 1] === h && equalBytes(keys, keyOff[g1 - 1]!, keyOff[g1]!, ids, s, e)) {
        group[i] = g1 - 1;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { group, reps, count, keys, keyOff };
}

/**
 * Indices 0..count-1 of the byte strings bytes[start[i], end[i]) in code-unit order (ties by
 * index): MSD radix sort, one byte (257 buckets with the end of the string) per level; buckets of
 * up to 32 by insertion.
 */
export function sortByBytes(bytes: Uint8Array, start: Uint32Array, end: Uint32Array, count: number): Uint32Array {
  const order = identity(count);
  const tmp = scratchU32("sortTmp", count);
  const cnt = new Int32Array(258);
  const stack: number[] = [0, count, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!, to = stack.pop()!, from = stack.pop()!;
    if (to - from <= 32) {
      insertionByBytes(order, from, to, bytes, start, end, depth);
      continue;
    }
    cnt.fill(0);
    for (let x = from; x < to; x++) {
      const i = order[x]!, p = start[i]! + depth;
      cnt[(p < end[i]! ? BYTE_WEIGHT[bytes[p]!]! : 0) + 1]!++;
    }
    if (cnt[1] === to - from) continue; // all ended here: equal strings, index order kept
    for (let d = 0; d < 257; d++) cnt[d + 1]! += cnt[d]!;
    for (let x = from; x < to; x++) {
      const i = order[x]!, p = start[i]! + depth;
      tmp[from + cnt[p < end[i]! ? BYTE_WEIGHT[bytes[p]!]! : 0]!++] = i;
    }
    order.set(tmp.subarray(from, to), from);
    // cnt[d] is now the end of bucket d; bucket 0 (ended strings) needs no more work
    for (let d = 1; d < 257; d++) {
      const a = from + cnt[d - 1]!, b = from + cnt[d]!;
      if (b - a > 1) stack.push(a, b, depth + 1);
    }
  }
  return order;
}

function insertionByBytes(order: Uint32Array, from: number, to: number, bytes: Uint8Array, start: Uint32Array, end: Uint32Array, depth: number): void {
  for (let i = from + 1; i < to; i++) {
    const v = order[i]!;
    let j = i - 1;
    while (j >= from) {
      const u = order[j]!;
      const c = compareBytes(bytes, start[u]! + depth, end[u]!, bytes, start[v]! + depth, end[v]!) || u - v;
      if (c <= 0) break;
      order[j + 1] = u;
      j--;
    }
    order[j + 1] = v;
  }
}

/** Scratch arrays for candidate pairs (reused across groups). */
interface Cand {
  af: number[];
  conf: number[];
  dt: number[];
  order: number[];
}

/**
 * Greedy one-to-one matching inside one appsflyer_id; ao/co are member positions (AF / confirmed),
 * time-ascending. Returns how many matched.
 */
function matchGroup(ao: number[], co: number[], mTime: Float64Array, mIdx: Uint32Array, tol: number, mMatch: Int32Array, mTaken: Uint8Array, cand: Cand): number {
  cand.af.length = 0;
  cand.conf.length = 0;
  cand.dt.length = 0;
  let lo = 0;
  for (let x = 0; x < ao.length; x++) {
    const a = ao[x]!, ta = mTime[a]!;
    while (lo < co.length && mTime[co[lo]!]! < ta - tol) lo++;
    for (let y = lo; y < co.length; y++) {
      const c = co[y]!;
      if (mTime[c]! > ta + tol) break;
      cand.af.push(a);
      cand.conf.push(c);
      cand.dt.push(Math.abs(ta - mTime[c]!));
    }
  }
  const m = cand.af.length;
  if (m === 0) return 0;
  const order = cand.order;
  order.length = m;
  for (let i = 0; i < m; i++) order[i] = i;
  const { af: ca, conf: cc, dt } = cand;
  // |dt|, AF time, confirmed time, AF file order, confirmed file order (combined index follows file order per side)
  order.sort((i, j) => {
    const ai = ca[i]!, aj = ca[j]!, ci = cc[i]!, cj = cc[j]!;
    return dt[i]! - dt[j]! || mTime[ai]! - mTime[aj]! || mTime[ci]! - mTime[cj]! || mIdx[ai]! - mIdx[aj]! || mIdx[ci]! - mIdx[cj]!;
  });
  let matched = 0;
  for (let x = 0; x < m; x++) {
    const i = order[x]!;
    const a = ca[i]!, c = cc[i]!;
    if (mMatch[a] !== -1 || mTaken[c]) continue;
    mMatch[a] = c;
    mTaken[c] = 1;
    matched++;
  }
  return matched;
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

/** Micro-dollars: a difference above one cent is a revenue mismatch (exactly 0.01 is not). */
const MISMATCH_OVER = 10_000;

/** The partitions' summaries added up (integer micro-dollar sums: exact in any order). */
export function addSummaries(parts: { summary?: ReconSummary }[]): ReconSummary {
  const s: ReconSummary = { matched: 0, afOnly: 0, confirmedOnly: 0, matchedMicro: 0, afOnlyMicro: 0, confirmedOnlyMicro: 0, revenueMismatches: 0 };
  for (const { summary: p } of parts) {
    if (!p) throw new Error("partition was not rendered");
    s.matched += p.matched;
    s.afOnly += p.afOnly;
    s.confirmedOnly += p.confirmedOnly;
    s.matchedMicro += p.matchedMicro;
    s.afOnlyMicro += p.afOnlyMicro;
    s.confirmedOnlyMicro += p.confirmedOnlyMicro;
    s.revenueMismatches += p.revenueMismatches;
  }
  return s;
}
