/** partitionByAfid: id ranges in code-unit order, every row once, about equal sizes. */
import { expect, test } from "bun:test";
import { bytesColumn, hashString } from "../../src/pipeline/columns/bytes.ts";
import type { Curated } from "../../src/pipeline/curate.ts";
import { partitionByAfid } from "../../src/pipeline/reconcile/partition.ts";
import type { ConfirmedTable, PurchasesTable } from "../../src/pipeline/tables.ts";

/** A deterministic pseudo-random generator (xorshift), so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** The columns partitionByAfid reads, for a list of ids. */
function table(ids: string[]) {
  return {
    n: ids.length,
    afid: bytesColumn(ids),
    afidHash: Int32Array.from(ids, hashString),
    time: new Float64Array(ids.length),
    receipt: bytesColumn(ids.map(() => "r")),
    revenue: new Float64Array(ids.length),
  };
}

function check(afIds: string[], confIds: string[], parts: number) {
  const p = table(afIds) as unknown as PurchasesTable;
  const c = table(confIds) as unknown as ConfirmedTable;
  // curated rows come in output order, not file order: partitions must still hold them ascending
  const curated = { rows: Uint32Array.from(afIds.keys()).reverse(), n: afIds.length } as unknown as Curated;
  const tasks = partitionByAfid(p, curated, c, parts, 600);
  expect(tasks.length).toBeLessThanOrEqual(parts);
  const seenAf = new Set<number>(),
    seenConf = new Set<number>();
  let previousMax: string | undefined;
  for (const t of tasks) {
    const ids: string[] = [];
    for (const [rows, list, seen] of [
      [t.af.rows, afIds, seenAf],
      [t.conf.rows, confIds, seenConf],
    ] as const) {
      for (let i = 0; i < rows.length; i++) {
        if (i > 0) expect(rows[i]!).toBeGreaterThan(rows[i - 1]!); // file order
        expect(seen.has(rows[i]!)).toBe(false);
        seen.add(rows[i]!);
        ids.push(list[rows[i]!]!);
      }
    }
    if (ids.length === 0) continue;
    ids.sort(); // JS string order = code-unit order
    // every id of this partition sorts after every id of the ones before: no id straddles
    if (previousMax !== undefined) expect(previousMax < ids[0]!).toBe(true);
    previousMax = ids[ids.length - 1];
  }
  expect(seenAf.size).toBe(afIds.length);
  expect(seenConf.size).toBe(confIds.length);
  return tasks.map((t) => t.af.rows.length + t.conf.rows.length);
}

test("partitions are id ranges in code-unit order, every row in exactly one, ids never split", () => {
  const next = random(42);
  // a long shared prefix, ids before and after it, prefixes of others, the empty id, and the
  // characters whose UTF-8 byte order differs from code-unit order (U+E000 sorts after U+1F600)
  const odd = ["", "a", "user-", "user-0", "zzz", "usea", "uses", "\uE000", "😀", "é", "user-😀", "user-\uE000"];
  const id = () => (next() < 0.05 ? odd[Math.floor(next() * odd.length)]! : `user-${Math.floor(next() * 4000)}`);
  const af = Array.from({ length: 3000 }, id),
    conf = Array.from({ length: 2500 }, id);
  for (const parts of [1, 2, 3, 8, 64]) check(af, conf, parts);
  // one id everywhere: one partition
  expect(check(["same", "same"], ["same"], 8).filter((size) => size > 0)).toEqual([3]);
  // nothing at all
  expect(check([], [], 4).reduce((a, b) => a + b, 0)).toBe(0);
});

test("diverse ids split into about equal partitions", () => {
  const next = random(7);
  const id = () => `${1690000000000 + Math.floor(next() * 4e10)}-${String(Math.floor(next() * 1e7)).padStart(7, "0")}`;
  const af = Array.from({ length: 20_000 }, id),
    conf = Array.from({ length: 18_000 }, id);
  const sizes = check(af, conf, 8);
  expect(sizes.length).toBe(8);
  const average = (af.length + conf.length) / 8;
  for (const size of sizes) expect(size).toBeLessThan(average * 1.5);
});
