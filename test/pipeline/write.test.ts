/**
 * writeChunks / curatedChunks: chunked rendering writes the same bytes as one chunk, in order.
 * writeReconciliation: the details rendered by any number of partitions merge into the same file,
 * whatever the piece size, with direct (O_DIRECT) writes on or off.
 * SequentialWriter / writeAt: the same bytes through any staging size, direct or not.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { applyChargebacks } from "../../src/pipeline/chargebacks.ts";
import { afRevenueByRow, sortCurated } from "../../src/pipeline/curate.ts";
import { dedupeFirst } from "../../src/pipeline/dedupe.ts";
import { selectPurchases } from "../../src/pipeline/filter.ts";
import { type CuratedChunk, curatedBytes, curatedChunks, writeChunks } from "../../src/pipeline/format/curated-csv.ts";
import { BLOCK, SequentialWriter, useDirectWrites } from "../../src/pipeline/format/direct-io.ts";
import {
  type RenderedPart,
  reconciliationHead,
  reconciliationTail,
  writeReconciliation,
} from "../../src/pipeline/format/reconciliation-json.ts";
import { matchPartition } from "../../src/pipeline/reconcile/match.ts";
import { partitionByAfid } from "../../src/pipeline/reconcile/partition.ts";
import { addSummaries } from "../../src/pipeline/reconcile/summary.ts";
import { cleanup, dataset, SAMPLE_DIR } from "./helpers.ts";
import { loadConfirmed, loadPurchases } from "./load-local.ts";

afterAll(cleanup);

async function sample() {
  const p = (await loadPurchases(join(SAMPLE_DIR, "purchases_raw.csv"))).table;
  const c = (await loadConfirmed(join(SAMPLE_DIR, "confirmed_purchases.csv"))).table;
  const unique = dedupeFirst(p, selectPurchases(p));
  const cb = applyChargebacks(p, unique);
  const curated = sortCurated(p, unique, cb.revenue, cb.chargeback);
  return { p, c, curated };
}

test("any chunk size and any completion order give the same curated file", async () => {
  const { p, curated } = await sample();
  const { root } = dataset();
  // renders finish in a scrambled order; the writer must still write them in chunk order
  let calls = 0;
  const scrambled = (ch: CuratedChunk) =>
    new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(curatedBytes(ch)), (7 * ++calls) % 5));
  const write = async (name: string, size: number, window: number) => {
    const path = join(root, name);
    await writeChunks(path, "[", "]", curatedChunks(p, curated, size), scrambled, window);
    return readFileSync(path, "utf8");
  };
  const whole = await write("whole", 1_000_000, 1);
  expect(whole.length).toBeGreaterThan(10_000);
  expect(await write("small", 97, 4)).toBe(whole);
  expect(await write("tiny", 1, 8)).toBe(whole);
  expect(whole.endsWith(",false\n]") || whole.endsWith(",true\n]")).toBe(true);
});

test("any number of reconciliation partitions gives the same reconciliation.json", async () => {
  const { p, c, curated } = await sample();
  const { root } = dataset();
  const afRevenue = afRevenueByRow(p, curated);
  const write = async (parts: number, chunkBytes?: number) => {
    const results = partitionByAfid(p, curated, c, parts, 600, afRevenue).map(matchPartition);
    const summary = addSummaries(results);
    const count = results.reduce((s, r) => s + r.type.length, 0);
    const path = join(root, `recon-${parts}-${chunkBytes}.json`);
    const head = reconciliationHead(10, summary);
    await writeReconciliation(path, head, reconciliationTail(count), results as RenderedPart[], undefined, chunkBytes);
    return readFileSync(path, "utf8");
  };
  const one = await write(1);
  const parsed = JSON.parse(one);
  expect(parsed.details.length).toBeGreaterThan(100);
  expect(one).toContain('"details": [\n    {"type":');
  for (const parts of [2, 3, 5, 16]) expect(await write(parts)).toBe(one);
  // pieces of one block: the head, stretches and tail cross piece boundaries everywhere
  expect(one.length).toBeGreaterThan(4 * BLOCK);
  for (const parts of [1, 3]) expect(await write(parts, BLOCK)).toBe(one);
  expect(await write(2, 3 * BLOCK)).toBe(one);
  useDirectWrites(false);
  try {
    expect(await write(3, BLOCK)).toBe(one);
  } finally {
    useDirectWrites(true);
  }
  await expect(writeReconciliation(join(root, "odd"), "{", "}", [], undefined, 1000)).rejects.toThrow(
    /multiple of 4096/,
  );
});

test("SequentialWriter writes the same bytes through any staging size, direct or not", () => {
  const { root } = dataset();
  // 3 blocks and a bit, in appends of awkward sizes
  const bytes = new Uint8Array(3 * BLOCK + 123).map((_, i) => (i * 31 + 7) & 255);
  for (const direct of [true, false]) {
    useDirectWrites(direct);
    try {
      for (const stage of [BLOCK, 2 * BLOCK, 1 << 20]) {
        const path = join(root, `seq-${direct}-${stage}`);
        const file = new SequentialWriter(path, stage);
        for (let at = 0; at < bytes.length; at += 1000)
          file.append(bytes.subarray(at, Math.min(bytes.length, at + 1000)));
        file.close();
        expect(statSync(path).size).toBe(bytes.length);
        expect(Buffer.compare(readFileSync(path), Buffer.from(bytes))).toBe(0);
      }
    } finally {
      useDirectWrites(true);
    }
  }
});
