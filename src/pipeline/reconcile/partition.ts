/**
 * Rows are hash-partitioned by appsflyer_id: every id lives in exactly one partition, so the
 * partitions match independently (on the pool) and their sorted results merge by id.
 */
import type { Curated } from "../curate.ts";
import type { ConfirmedTable, PurchasesTable } from "../tables.ts";
import type { PartitionTask } from "./types.ts";

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
  // file order: the worker's stable sorts keep it as the last tie-break
  const afRows = Uint32Array.from(curated.rows).sort();
  const afCount = new Uint32Array(parts),
    confCount = new Uint32Array(parts);
  for (let j = 0; j < afRows.length; j++) afCount[partOf(p.afidHash[afRows[j]!]!)]!++;
  for (let i = 0; i < c.n; i++) confCount[partOf(c.afidHash[i]!)]!++;
  const tasks: PartitionTask[] = [];
  for (let k = 0; k < parts; k++) {
    tasks.push({
      af: {
        ids: p.afid,
        hash: p.afidHash,
        time: p.time,
        rows: new Uint32Array(afCount[k]!),
        receipt: p.receipt,
        revenue: afRevenue,
      },
      conf: {
        ids: c.afid,
        hash: c.afidHash,
        time: c.time,
        rows: new Uint32Array(confCount[k]!),
        receipt: c.receipt,
        revenue: c.revenue,
      },
      toleranceSec,
      render: afRevenue !== undefined,
    });
  }
  const fill = new Uint32Array(parts);
  for (let j = 0; j < afRows.length; j++) {
    const row = afRows[j]!,
      k = partOf(p.afidHash[row]!);
    tasks[k]!.af.rows[fill[k]!++] = row;
  }
  fill.fill(0);
  for (let i = 0; i < c.n; i++) {
    const k = partOf(c.afidHash[i]!);
    tasks[k]!.conf.rows[fill[k]!++] = i;
  }
  return tasks;
}
