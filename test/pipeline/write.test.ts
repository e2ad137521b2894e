/** writeChunks / curatedChunks / detailChunks: chunked rendering writes the same bytes as one chunk, in order. */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { applyChargebacks } from "../../src/pipeline/chargebacks.ts";
import { sortCurated } from "../../src/pipeline/curate.ts";
import { dedupeFirst } from "../../src/pipeline/dedupe.ts";
import { selectPurchases } from "../../src/pipeline/filter.ts";
import { loadConfirmed, loadPurchases } from "../../src/pipeline/load.ts";
import { matchPartition, mergeDetails, partitionByAfid } from "../../src/pipeline/reconcile.ts";
import { curatedChunks, detailChunks, renderChunk, writeChunks, type Chunk } from "../../src/pipeline/write.ts";
import { cleanup, dataset, SAMPLE_DIR } from "./helpers.ts";

afterAll(cleanup);

test("any chunk size and any completion order give the same file", async () => {
  const p = (await loadPurchases(join(SAMPLE_DIR, "purchases_raw.csv"))).table;
  const c = (await loadConfirmed(join(SAMPLE_DIR, "confirmed_purchases.csv"))).table;
  const unique = dedupeFirst(p, selectPurchases(p));
  const cb = applyChargebacks(p, unique);
  const curated = sortCurated(p, unique, cb.revenue, cb.chargeback);
  const details = mergeDetails(partitionByAfid(p, curated, c, 3, 600).map(matchPartition), p.afid, c.afid);
  const { root } = dataset();
  // renders finish in a scrambled order; the writer must still write them in chunk order
  let calls = 0;
  const scrambled = (ch: Chunk) => new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(renderChunk(ch)), (7 * ++calls) % 5));
  const write = async (name: string, size: number, window: number) => {
    const path = join(root, name);
    await writeChunks(path, "[", "]", [...curatedChunks(p, curated, size), ...detailChunks(p, curated, c, details, size)], scrambled, window);
    return readFileSync(path, "utf8");
  };
  const whole = await write("whole", 1_000_000, 1);
  expect(whole.length).toBeGreaterThan(100_000);
  expect(await write("small", 97, 4)).toBe(whole);
  expect(await write("tiny", 1, 8)).toBe(whole);
  expect(whole).toContain(",false\n" + '\n    {"type":'); // the CSV chunks end where the first detail chunk opens the array
});
