/** A partition's detail lines rendered (format/detail-lines.ts) and its summary added up, in one pass. */
import { scratch } from "../columns/memory.ts";
import { DetailWriter } from "../format/detail-lines.ts";
import { MISMATCH_OVER } from "./summary.ts";
import { AF_ONLY, CONFIRMED_ONLY, emptySummary, type PartitionResult, type PartitionTask } from "./types.ts";

/**
 * Writes a partition's detail lines (task.render): values gathered into member order first
 * (receipts copied too), so the writing reads memory in order; the summary is added up alongside.
 */
export function renderDetails(
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
  const n = mIdx.length,
    count = ranked.length,
    details = out.type.length;
  // the tables are read in combined order (their rows ascending: sequential reads), then
  // permuted into member order through local arrays
  const afRev = af.revenue!,
    confRev = conf.revenue!;
  const rev = scratch(Float64Array, "rev", n);
  // one loop per side on purpose (hot): no per-row side test
  for (let i = 0; i < nAf; i++) rev[i] = afRev[row[i]!]!;
  for (let i = nAf; i < n; i++) rev[i] = confRev[row[i]!]!;
  const mRev = scratch(Float64Array, "mRev", n);
  for (let x = 0; x < n; x++) mRev[x] = rev[mIdx[x]!]!;
  const afRc = af.receipt!,
    confRc = conf.receipt!;
  const rcOff = scratch(Uint32Array, "rcOff", n + 1);
  rcOff[0] = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i < nAf ? afRc.offsets : confRc.offsets,
      r = row[i]!;
    total += o[r + 1]! - o[r]!;
    rcOff[i + 1] = total;
  }
  const rc = scratch(Uint8Array, "rc", total);
  for (let i = 0; i < n; i++) {
    const col = i < nAf ? afRc : confRc,
      r = row[i]!;
    const src = col.bytes;
    let at = rcOff[i]!;
    for (let j = col.offsets[r]!, e = col.offsets[r + 1]!; j < e; j++) rc[at++] = src[j]!;
  }
  // receipts in member order: offsets from the lengths in member order (a gather over a small
  // array), then the bytes scattered from the combined-order copy (sequential reads, random writes
  // the CPU does not wait for)
  const mRcOff = scratch(Uint32Array, "mRcOff", n + 1);
  mRcOff[0] = 0;
  for (let x = 0; x < n; x++) {
    const i = mIdx[x]!;
    mRcOff[x + 1] = mRcOff[x]! + rcOff[i + 1]! - rcOff[i]!;
  }
  const dst = scratch(Uint32Array, "dst", n); // member-order offset of combined index i
  for (let x = 0; x < n; x++) dst[mIdx[x]!] = mRcOff[x]!;
  const mRc = scratch(Uint8Array, "mRc", total);
  for (let i = 0; i < n; i++) {
    const j0 = rcOff[i]!,
      len = rcOff[i + 1]! - j0,
      at = dst[i]!;
    for (let j = 0; j < len; j++) mRc[at + j] = rc[j0 + j]!;
  }
  const s = emptySummary();
  const w = new DetailWriter(Math.max(1 << 16, details * 320));
  const type = out.type,
    runs = out.runs;
  for (let g = 0; g < count; g++) {
    const kg = ranked[g]!;
    w.setId(keys, keyOff[kg]!, keyOff[kg + 1]!);
    for (let d = runs[g]!; d < runs[g + 1]!; d++) {
      const x = dPos[d]!,
        t = type[d]!,
        rev = mRev[x]!;
      if (t === CONFIRMED_ONLY) {
        s.confirmedOnly++;
        s.confirmedOnlyMicro += rev;
        w.confirmedOnly(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!);
      } else if (t === AF_ONLY) {
        s.afOnly++;
        s.afOnlyMicro += rev;
        w.afOnly(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!);
      } else {
        const m = mMatch[x]!,
          crev = mRev[m]!;
        s.matched++;
        s.matchedMicro += rev;
        if (Math.abs(rev - crev) > MISMATCH_OVER) s.revenueMismatches++;
        w.matched(mTime[x]!, rev, mRc, mRcOff[x]!, mRcOff[x + 1]!, mTime[m]!, crev, mRc, mRcOff[m]!, mRcOff[m + 1]!);
      }
    }
  }
  out.bytes = w.done();
  out.summary = s;
}
