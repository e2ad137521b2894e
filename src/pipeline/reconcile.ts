/**
 * SPEC 4 rule 6: one-to-one reconciliation of curated purchases with confirmed purchases per
 * appsflyer_id. Candidate pairs (|dt| <= tolerance, inclusive) are taken in order of |dt|, AF
 * time, confirmed time, AF file order, confirmed file order; each row matches at most once.
 * Rows are hash-partitioned by appsflyer_id; a worker matches one partition and returns its
 * details already sorted (appsflyer_id, time, type, file order); the main thread merges the
 * sorted partitions. Every order is by data only, so the partitioning never shows in the output.
 */
import { strAt, StringColumnBuilder, type StringColumn } from "./columns.ts";
import type { Curated } from "./curate.ts";
import type { ConfirmedTable, PurchasesTable } from "./load.ts";
import { identity, radixSortBy, sortedIndexByString } from "./sort.ts";

/** Detail kinds, in their tie-break order. */
export const MATCHED = 0, AF_ONLY = 1, CONFIRMED_ONLY = 2;

/** One side of a partition: row index in its file (= file order), epoch seconds, id hash. */
export interface Side {
  row: Uint32Array;
  time: Float64Array;
  hash: Int32Array;
}

/** What a worker receives: both sides of one partition, the id columns, the tolerance. */
export interface PartitionTask {
  /** appsflyer_id of every purchases row / every confirmed row (read by row index) */
  afIds: StringColumn;
  confIds: StringColumn;
  af: Side;
  conf: Side;
  toleranceSec: number;
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
 * One partition's result: its details sorted, the distinct appsflyer_ids in sorted order and,
 * per id, where its run of details starts (runs[i]..runs[i+1]). Every id lives in exactly one
 * partition, so merging the id lists (not the details) yields the global order.
 */
export interface PartitionResult extends Details {
  ids: StringColumn;
  runs: Uint32Array;
}

/** Splits curated and confirmed rows into `parts` partitions by hash(appsflyer_id). */
export function partitionByAfid(p: PurchasesTable, curated: Curated, c: ConfirmedTable, parts: number, toleranceSec: number): PartitionTask[] {
  const partOf = (hash: number) => (hash >>> 0) % parts;
  const afCount = new Uint32Array(parts), confCount = new Uint32Array(parts);
  for (let j = 0; j < curated.n; j++) afCount[partOf(p.afidHash[curated.rows[j]!]!)]!++;
  for (let i = 0; i < c.n; i++) confCount[partOf(c.afidHash[i]!)]!++;
  const tasks: PartitionTask[] = [];
  for (let k = 0; k < parts; k++) {
    tasks.push({
      afIds: p.afid,
      confIds: c.afid,
      af: { row: new Uint32Array(afCount[k]!), time: new Float64Array(afCount[k]!), hash: new Int32Array(afCount[k]!) },
      conf: { row: new Uint32Array(confCount[k]!), time: new Float64Array(confCount[k]!), hash: new Int32Array(confCount[k]!) },
      toleranceSec,
    });
  }
  const fill = new Uint32Array(parts);
  // rows go in file order (row index order), which the worker's stable sorts keep as the last tie-break
  for (const row of Uint32Array.from(curated.rows).sort()) {
    const k = partOf(p.afidHash[row]!), at = fill[k]!++;
    tasks[k]!.af.row[at] = row;
    tasks[k]!.af.time[at] = p.time[row]!;
    tasks[k]!.af.hash[at] = p.afidHash[row]!;
  }
  fill.fill(0);
  for (let i = 0; i < c.n; i++) {
    const k = partOf(c.afidHash[i]!), at = fill[k]!++;
    tasks[k]!.conf.row[at] = i;
    tasks[k]!.conf.time[at] = c.time[i]!;
    tasks[k]!.conf.hash[at] = c.afidHash[i]!;
  }
  return tasks;
}

/**
 * Matches one partition and returns its details sorted by appsflyer_id (code-unit order), time
 * (a match by its AF time), type, then file order. Pure: the worker task and tests call it.
 */
export function matchPartition(task: PartitionTask): PartitionResult {
  const { af, conf, toleranceSec: tol } = task;
  const nAf = af.row.length, nConf = conf.row.length;
  // combined index: i < nAf is AF row i, otherwise confirmed row i - nAf (both sides in file order)
  const { members, start, names } = groupIds(task);
  const matchOfAf = new Int32Array(nAf).fill(-1);
  const confTaken = new Uint8Array(nConf);
  const byTime = (x: number, y: number) => timeOf(x) - timeOf(y) || x - y; // x - y = file order
  const timeOf = (i: number) => (i < nAf ? af.time[i]! : conf.time[i - nAf]!);
  for (let g = 0; g < names.length; g++) {
    const from = start[g]!, to = start[g + 1]!;
    let split = from; // members: AF ones first (smaller combined index), then confirmed ones
    while (split < to && members[split]! < nAf) split++;
    if (split === from || split === to) continue;
    const ao = sortSmall(Array.from(members.subarray(from, split)), byTime);
    const co = sortSmall(Array.from(members.subarray(split, to), (i) => i - nAf), (x, y) => byTime(x + nAf, y + nAf));
    matchGroup(ao, co, af, conf, tol, matchOfAf, confTaken);
  }

  // details, group by group in id order; inside a group by time, type, file order
  const sortedGroups = sortedIndexByString(names);
  let n = nAf;
  for (let i = 0; i < nConf; i++) if (!confTaken[i]) n++;
  const out = { type: new Uint8Array(n), afRow: new Int32Array(n), confRow: new Int32Array(n) };
  const runs = new Uint32Array(names.length + 1);
  const ids = new StringColumnBuilder();
  const typeOf = (i: number) => (i >= nAf ? CONFIRMED_ONLY : matchOfAf[i] === -1 ? AF_ONLY : MATCHED);
  let k = 0;
  sortedGroups.forEach((g, r) => {
    runs[r] = k;
    ids.push(names[g]!);
    const list: number[] = [];
    for (let x = start[g]!; x < start[g + 1]!; x++) {
      const i = members[x]!;
      if (i < nAf || !confTaken[i - nAf]) list.push(i);
    }
    sortSmall(list, (x, y) => timeOf(x) - timeOf(y) || typeOf(x) - typeOf(y) || x - y);
    for (const i of list) {
      const type = typeOf(i);
      out.type[k] = type;
      if (i < nAf) {
        out.afRow[k] = af.row[i]!;
        out.confRow[k] = type === MATCHED ? conf.row[matchOfAf[i]!]! : -1;
      } else {
        out.afRow[k] = -1;
        out.confRow[k] = conf.row[i - nAf]!;
      }
      k++;
    }
  });
  runs[names.length] = n;
  return { ...out, ids: ids.finish(), runs };
}

/** Sorts a short list in place (insertion sort: most groups hold a handful of rows). */
function sortSmall(list: number[], cmp: (a: number, b: number) => number): number[] {
  if (list.length > 32) return list.sort(cmp);
  for (let i = 1; i < list.length; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= 0 && cmp(list[j]!, v) > 0) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
  return list;
}

/**
 * Group ids by exact appsflyer_id, shared by both sides. Rows are ordered by id hash, so equal
 * ids sit together; the strings are compared only with their run's first row (a map sorts out
 * the rare hash collision), far cheaper than a string-keyed map over every row.
 * Returns the combined indices ordered so each group is contiguous (members[start[g]..start[g+1]],
 * in combined index order), and each group's id.
 */
function groupIds(task: PartitionTask): { members: Uint32Array; start: Uint32Array; names: string[] } {
  const { af, conf } = task;
  const nAf = af.row.length, n = nAf + conf.row.length;
  const hash = new Float64Array(n);
  for (let i = 0; i < nAf; i++) hash[i] = af.hash[i]! >>> 0;
  for (let i = nAf; i < n; i++) hash[i] = conf.hash[i - nAf]! >>> 0;
  const idOf = (i: number) => (i < nAf ? strAt(task.afIds, af.row[i]!) : strAt(task.confIds, conf.row[i - nAf]!));
  const members = radixSortBy(identity(n), hash); // stable: combined index order inside a hash
  const starts: number[] = [];
  const names: string[] = [];
  for (let a = 0; a < n; ) {
    let b = a + 1;
    while (b < n && hash[members[b]!] === hash[members[a]!]) b++;
    const first = idOf(members[a]!);
    let collided = false;
    for (let x = a + 1; x < b && !collided; x++) collided = idOf(members[x]!) !== first;
    if (!collided) {
      starts.push(a);
      names.push(first);
    } else {
      // two ids share a hash: regroup this run by id, keeping combined index order per id
      const byId = new Map<string, number[]>();
      for (let x = a; x < b; x++) {
        const id = idOf(members[x]!);
        let list = byId.get(id);
        if (!list) byId.set(id, (list = []));
        list.push(members[x]!);
      }
      let at = a;
      for (const [id, list] of byId) {
        starts.push(at);
        names.push(id);
        members.set(list, at);
        at += list.length;
      }
    }
    a = b;
  }
  starts.push(n);
  return { members, start: Uint32Array.from(starts), names };
}

/** Greedy one-to-one matching inside one appsflyer_id; both index lists are time-ascending. */
function matchGroup(ao: number[], co: number[], af: Side, conf: Side, tol: number, matchOfAf: Int32Array, confTaken: Uint8Array): void {
  const candAf: number[] = [], candConf: number[] = [], candDt: number[] = [];
  let lo = 0;
  for (let x = 0; x < ao.length; x++) {
    const a = ao[x]!, ta = af.time[a]!;
    while (lo < co.length && conf.time[co[lo]!]! < ta - tol) lo++;
    for (let y = lo; y < co.length; y++) {
      const cc = co[y]!;
      if (conf.time[cc]! > ta + tol) break;
      candAf.push(a);
      candConf.push(cc);
      candDt.push(Math.abs(ta - conf.time[cc]!));
    }
  }
  if (candAf.length === 0) return;
  const order = candAf.map((_, i) => i);
  order.sort((i, j) => {
    const ai = candAf[i]!, aj = candAf[j]!, ci = candConf[i]!, cj = candConf[j]!;
    return (
      candDt[i]! - candDt[j]! ||
      af.time[ai]! - af.time[aj]! ||
      conf.time[ci]! - conf.time[cj]! ||
      af.row[ai]! - af.row[aj]! ||
      conf.row[ci]! - conf.row[cj]!
    );
  });
  for (const i of order) {
    const a = candAf[i]!, cc = candConf[i]!;
    if (matchOfAf[a] !== -1 || confTaken[cc]) continue;
    matchOfAf[a] = cc;
    confTaken[cc] = 1;
  }
}

/**
 * Merges the partitions: a k-way merge of their sorted id lists, copying each id's run of
 * details. Ids are compared once per id, not once per detail.
 */
export function mergeDetails(parts: PartitionResult[]): Details {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((s, d) => s + d.type.length, 0);
  const out: Details = { type: new Uint8Array(total), afRow: new Int32Array(total), confRow: new Int32Array(total) };
  const next = parts.map(() => 0); // next id per partition
  const head = parts.map((d) => (d.runs.length > 1 ? strAt(d.ids, 0) : null));
  let k = 0;
  for (;;) {
    let best = -1;
    for (let j = 0; j < parts.length; j++) {
      const h = head[j];
      if (h !== null && (best === -1 || h < head[best]!)) best = j;
    }
    if (best === -1) break;
    const d = parts[best]!, id = next[best]!;
    const from = d.runs[id]!, to = d.runs[id + 1]!;
    out.type.set(d.type.subarray(from, to), k);
    out.afRow.set(d.afRow.subarray(from, to), k);
    out.confRow.set(d.confRow.subarray(from, to), k);
    k += to - from;
    next[best] = id + 1;
    head[best] = id + 1 < d.runs.length - 1 ? strAt(d.ids, id + 1) : null;
  }
  return out;
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

/** Curated position of each purchases row (-1 when the row is not curated). */
export function curatedPositions(p: PurchasesTable, curated: Curated): Int32Array {
  const pos = new Int32Array(p.n).fill(-1);
  for (let j = 0; j < curated.n; j++) pos[curated.rows[j]!] = j;
  return pos;
}

/** Counts and sums over the details; the AF side uses the revenue after chargebacks. */
export function summarise(d: Details, curated: Curated, pos: Int32Array, c: ConfirmedTable): ReconSummary {
  const s: ReconSummary = { matched: 0, afOnly: 0, confirmedOnly: 0, matchedMicro: 0, afOnlyMicro: 0, confirmedOnlyMicro: 0, revenueMismatches: 0 };
  for (let i = 0; i < d.type.length; i++) {
    const type = d.type[i]!;
    if (type === CONFIRMED_ONLY) {
      s.confirmedOnly++;
      s.confirmedOnlyMicro += c.revenue[d.confRow[i]!]!;
      continue;
    }
    const afRevenue = curated.revenue[pos[d.afRow[i]!]!]!;
    if (type === AF_ONLY) {
      s.afOnly++;
      s.afOnlyMicro += afRevenue;
    } else {
      s.matched++;
      s.matchedMicro += afRevenue;
      if (Math.abs(afRevenue - c.revenue[d.confRow[i]!]!) > MISMATCH_OVER) s.revenueMismatches++;
    }
  }
  return s;
}
