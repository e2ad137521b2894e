/**
 * SPEC 4 rule 6: one-to-one reconciliation of curated purchases with confirmed purchases per
 * appsflyer_id. Candidate pairs (|dt| <= tolerance, inclusive) are taken in order of |dt|, AF
 * time, confirmed time, AF file order, confirmed file order; each row matches at most once.
 * The work is hash-partitioned by appsflyer_id: a partition is plain typed arrays, matched in a
 * worker, and the merge sorts by data only, so the result does not depend on the partitioning.
 */
import { dictRanks, Interner } from "./columns.ts";
import type { Curated } from "./curate.ts";
import type { ConfirmedTable, PurchasesTable } from "./load.ts";

/** One side of a partition: global appsflyer_id code, epoch seconds, file order. */
export interface Side {
  key: Uint32Array;
  time: Float64Array;
  ord: Float64Array;
}

/** What a worker receives: both sides of one partition and the tolerance in seconds. */
export interface PartitionTask {
  af: Side;
  conf: Side;
  toleranceSec: number;
}

/** A partition plus where its rows came from (kept on the main thread). */
export interface Partition {
  task: PartitionTask;
  /** curated position of each AF row */
  afPos: Uint32Array;
  /** confirmed row index of each confirmed row */
  confIdx: Uint32Array;
}

/** appsflyer_id dictionary shared by both files: code maps and the code-unit rank of each id. */
export interface AfidSpace {
  purchasesToGlobal: Uint32Array;
  confirmedToGlobal: Uint32Array;
  /** sort rank of each global code */
  rank: Uint32Array;
  dict: string[];
}

/** Merges the two files' appsflyer_id dictionaries. */
export function afidSpace(p: PurchasesTable, c: ConfirmedTable): AfidSpace {
  const all = new Interner();
  const purchasesToGlobal = Uint32Array.from(p.afidDict, (s) => all.code(s));
  const confirmedToGlobal = Uint32Array.from(c.afidDict, (s) => all.code(s));
  return { purchasesToGlobal, confirmedToGlobal, rank: dictRanks(all.values), dict: all.values };
}

/** FNV-1a of a string: partition choice only, never part of any output. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Splits curated and confirmed rows into `parts` partitions by hash(appsflyer_id). */
export function partitionByAfid(
  p: PurchasesTable,
  curated: Curated,
  c: ConfirmedTable,
  space: AfidSpace,
  parts: number,
  toleranceSec: number,
): Partition[] {
  const partOf = Uint16Array.from(space.dict, (s) => hashString(s) % parts);
  const afPart = new Uint16Array(curated.n);
  const confPart = new Uint16Array(c.n);
  const afCount = new Uint32Array(parts);
  const confCount = new Uint32Array(parts);
  for (let j = 0; j < curated.n; j++) afCount[(afPart[j] = partOf[space.purchasesToGlobal[p.afid[curated.rows[j]!]!]!]!)]!++;
  for (let i = 0; i < c.n; i++) confCount[(confPart[i] = partOf[space.confirmedToGlobal[c.afid[i]!]!]!)]!++;
  const out: Partition[] = [];
  for (let k = 0; k < parts; k++) {
    const side = (n: number): Side => ({ key: new Uint32Array(n), time: new Float64Array(n), ord: new Float64Array(n) });
    out.push({
      task: { af: side(afCount[k]!), conf: side(confCount[k]!), toleranceSec },
      afPos: new Uint32Array(afCount[k]!),
      confIdx: new Uint32Array(confCount[k]!),
    });
  }
  const fill = new Uint32Array(parts);
  for (let j = 0; j < curated.n; j++) {
    const k = afPart[j]!, at = fill[k]!++, part = out[k]!, row = curated.rows[j]!;
    part.task.af.key[at] = space.purchasesToGlobal[p.afid[row]!]!;
    part.task.af.time[at] = p.time[row]!;
    part.task.af.ord[at] = row; // purchases table index = file order
    part.afPos[at] = j;
  }
  fill.fill(0);
  for (let i = 0; i < c.n; i++) {
    const k = confPart[i]!, at = fill[k]!++, part = out[k]!;
    part.task.conf.key[at] = space.confirmedToGlobal[c.afid[i]!]!;
    part.task.conf.time[at] = c.time[i]!;
    part.task.conf.ord[at] = i;
    part.confIdx[at] = i;
  }
  return out;
}

/** Local indices of a side, sorted by key, time, file order. */
function sortedSide(s: Side): Uint32Array {
  const order = new Uint32Array(s.key.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => s.key[a]! - s.key[b]! || s.time[a]! - s.time[b]! || s.ord[a]! - s.ord[b]!);
}

/**
 * Matches one partition. Returns flat pairs [afLocal, confLocal, ...] (indices into the task's
 * sides). Pure: the worker task and the tests call this directly.
 */
export function matchPartition(task: PartitionTask): Uint32Array {
  const { af, conf, toleranceSec: tol } = task;
  const ao = sortedSide(af);
  const co = sortedSide(conf);
  const pairs: number[] = [];
  // candidate scratch, reused per appsflyer_id group
  let candAf: number[] = [], candConf: number[] = [], candDt: number[] = [];
  let ia = 0, ic = 0;
  while (ia < ao.length && ic < co.length) {
    const ka = af.key[ao[ia]!]!, kc = conf.key[co[ic]!]!;
    if (ka !== kc) {
      if (ka < kc) while (ia < ao.length && af.key[ao[ia]!] === ka) ia++;
      else while (ic < co.length && conf.key[co[ic]!] === kc) ic++;
      continue;
    }
    const a0 = ia, c0 = ic;
    while (ia < ao.length && af.key[ao[ia]!] === ka) ia++;
    while (ic < co.length && conf.key[co[ic]!] === ka) ic++;
    candAf = []; candConf = []; candDt = [];
    // both sides are time-ascending: a sliding window finds each AF row's candidates
    let lo = c0;
    for (let x = a0; x < ia; x++) {
      const a = ao[x]!, ta = af.time[a]!;
      while (lo < ic && conf.time[co[lo]!]! < ta - tol) lo++;
      for (let y = lo; y < ic; y++) {
        const cc = co[y]!, dt = Math.abs(ta - conf.time[cc]!);
        if (conf.time[cc]! > ta + tol) break;
        if (dt <= tol) {
          candAf.push(a);
          candConf.push(cc);
          candDt.push(dt);
        }
      }
    }
    if (candAf.length === 0) continue;
    const order = candAf.map((_, i) => i);
    order.sort((i, j) => {
      const ai = candAf[i]!, aj = candAf[j]!, ci = candConf[i]!, cj = candConf[j]!;
      return (
        candDt[i]! - candDt[j]! ||
        af.time[ai]! - af.time[aj]! ||
        conf.time[ci]! - conf.time[cj]! ||
        af.ord[ai]! - af.ord[aj]! ||
        conf.ord[ci]! - conf.ord[cj]!
      );
    });
    const usedAf = new Set<number>(), usedConf = new Set<number>();
    for (const i of order) {
      const a = candAf[i]!, cc = candConf[i]!;
      if (usedAf.has(a) || usedConf.has(cc)) continue;
      usedAf.add(a);
      usedConf.add(cc);
      pairs.push(a, cc);
    }
  }
  return Uint32Array.from(pairs);
}

/** Detail kinds, in their tie-break order. */
export const MATCHED = 0, AF_ONLY = 1, CONFIRMED_ONLY = 2;
export const DETAIL_TYPES = ["matched", "af_only", "confirmed_only"] as const;

/** Reconciliation result: summary in micro-dollars, details in output order. */
export interface Reconciliation {
  matched: number;
  afOnly: number;
  confirmedOnly: number;
  matchedMicro: number;
  afOnlyMicro: number;
  confirmedOnlyMicro: number;
  revenueMismatches: number;
  /** per detail, in output order: type, curated position (-1 none), confirmed index (-1 none) */
  type: Uint8Array;
  af: Int32Array;
  conf: Int32Array;
}

/** Micro-dollars: a difference above one cent is a revenue mismatch (exactly 0.01 is not). */
const MISMATCH_OVER = 10_000;

/**
 * Merges the partitions' pairs into the summary and the sorted details.
 * Details are sorted by appsflyer_id, then time (a match by its AF time), then type, AF file
 * order and confirmed file order, which makes the order total.
 */
export function mergeReconciliation(
  p: PurchasesTable,
  curated: Curated,
  c: ConfirmedTable,
  space: AfidSpace,
  partitions: Partition[],
  pairsPerPartition: Uint32Array[],
): Reconciliation {
  const confOfAf = new Int32Array(curated.n).fill(-1);
  const confTaken = new Uint8Array(c.n);
  partitions.forEach((part, k) => {
    const pairs = pairsPerPartition[k]!;
    for (let i = 0; i < pairs.length; i += 2) {
      const pos = part.afPos[pairs[i]!]!, ci = part.confIdx[pairs[i + 1]!]!;
      confOfAf[pos] = ci;
      confTaken[ci] = 1;
    }
  });
  const total = curated.n + c.n;
  const type = new Uint8Array(total), af = new Int32Array(total), conf = new Int32Array(total);
  const rank = new Float64Array(total), time = new Float64Array(total), ord = new Float64Array(total);
  const r: Reconciliation = {
    matched: 0, afOnly: 0, confirmedOnly: 0, matchedMicro: 0, afOnlyMicro: 0, confirmedOnlyMicro: 0, revenueMismatches: 0,
    type, af, conf,
  };
  let n = 0;
  for (let j = 0; j < curated.n; j++) {
    const row = curated.rows[j]!, ci = confOfAf[j]!;
    type[n] = ci === -1 ? AF_ONLY : MATCHED;
    af[n] = j;
    conf[n] = ci;
    rank[n] = space.rank[space.purchasesToGlobal[p.afid[row]!]!]!;
    time[n] = p.time[row]!;
    ord[n] = row * 2; // AF file order before confirmed file order on a full tie
    n++;
    if (ci === -1) {
      r.afOnly++;
      r.afOnlyMicro += curated.revenue[j]!;
    } else {
      r.matched++;
      r.matchedMicro += curated.revenue[j]!;
      if (Math.abs(curated.revenue[j]! - c.revenue[ci]!) > MISMATCH_OVER) r.revenueMismatches++;
    }
  }
  for (let i = 0; i < c.n; i++) {
    if (confTaken[i]) continue;
    type[n] = CONFIRMED_ONLY;
    af[n] = -1;
    conf[n] = i;
    rank[n] = space.rank[space.confirmedToGlobal[c.afid[i]!]!]!;
    time[n] = c.time[i]!;
    ord[n] = i * 2 + 1;
    n++;
    r.confirmedOnly++;
    r.confirmedOnlyMicro += c.revenue[i]!;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => rank[x]! - rank[y]! || time[x]! - time[y]! || type[x]! - type[y]! || ord[x]! - ord[y]!);
  r.type = new Uint8Array(n);
  r.af = new Int32Array(n);
  r.conf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = order[i]!;
    r.type[i] = type[k]!;
    r.af[i] = af[k]!;
    r.conf[i] = conf[k]!;
  }
  return r;
}
