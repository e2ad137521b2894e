/**
 * sortCurated and sortByBytes against plain comparator sorts on the decoded strings: code-unit
 * order (UTF-16, what `<` on JS strings gives) on UTF-8 bytes, prefixes first, ties by file order.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { bytesColumn, hashString } from "../../src/pipeline/columns/bytes.ts";
import { sortCurated } from "../../src/pipeline/curate.ts";
import { sortByBytes } from "../../src/pipeline/sort/by-bytes.ts";
import { insertionSort } from "../../src/pipeline/sort/insertion.ts";
import { radixSortPairs } from "../../src/pipeline/sort/radix.ts";
import type { PurchasesTable } from "../../src/pipeline/tables.ts";

/** Ids that stress byte order: shared prefixes, NUL, short ones, and the UTF-8 lead bytes 0xEE-0xF4 (U+E000.. vs supplementary). */
const id = fc.oneof(
  fc.constantFrom(
    "",
    "a",
    "ab",
    "ab\u0000",
    "ab\u0000c",
    "abc",
    "abcdefgh",
    "abcdefghi",
    "abcdefgh\u0000",
    "\u00e9",
    "\ue000",
    "\uffff",
    "\ud83d\ude00",
    "z\ud83d\ude00",
    "z\ue000",
    "1729167039506-5020964",
    "1729167039506-5020965",
  ),
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[0-9]{10,14}-[0-9]{1,3}$/),
);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

test("sortCurated: time, appsflyer_id, receipt_id, file order", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), id, fc.constantFrom("r1", "r2", "")), {
        minLength: 1,
        maxLength: 80,
      }),
      (rows) => {
        const n = rows.length;
        const t = {
          kind: "purchases",
          n,
          afid: bytesColumn(rows.map((r) => r[1])),
          receipt: bytesColumn(rows.map((r) => r[2])),
          afidHash: Int32Array.from(rows, (r) => hashString(r[1])),
          time: Float64Array.from(rows, (r) => 1_750_000_000 + r[0]),
        } as unknown as PurchasesTable;
        const positions = Uint32Array.from(rows.keys());
        const out = sortCurated(t, positions, new Float64Array(n), new Uint8Array(n));
        const expected = [...rows.keys()].sort(
          (x, y) =>
            rows[x]![0] - rows[y]![0] || cmp(rows[x]![1], rows[y]![1]) || cmp(rows[x]![2], rows[y]![2]) || x - y,
        );
        expect(Array.from(out.rows)).toEqual(expected);
      },
    ),
    { numRuns: 400, seed: 3 },
  );
});

test("sortByBytes: code-unit order of the decoded strings", () => {
  fc.assert(
    fc.property(fc.uniqueArray(id, { maxLength: 200 }), (ids) => {
      const col = bytesColumn(ids);
      const order = sortByBytes(col.bytes, col.offsets.subarray(0, ids.length), col.offsets.subarray(1), ids.length);
      expect(Array.from(order, (i) => ids[i])).toEqual([...ids].sort(cmp));
    }),
    { numRuns: 300, seed: 5 },
  );
});

test("radixSortPairs: stable, payload carried", () => {
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 3000 }), fc.integer({ min: 1, max: 32 }), (raw, bits) => {
      const keys = Uint32Array.from(raw, (k) => (bits === 32 ? k : k % 2 ** bits) >>> 0);
      const values = Uint32Array.from(raw.keys());
      const payload = Uint32Array.from(raw.keys(), (i) => i * 7);
      const expected = [...values].sort((a, b) => keys[a]! - keys[b]! || a - b);
      const sorted = radixSortPairs(Uint32Array.from(keys), values, [payload]);
      expect(Array.from(sorted.values)).toEqual(expected);
      expect(Array.from(sorted.keys)).toEqual(expected.map((i) => keys[i]!));
      expect(Array.from(sorted.payload[0]!)).toEqual(expected.map((i) => i * 7));
    }),
    { numRuns: 200, seed: 9 },
  );
});

test("insertionSort: stable over positions, with arrays that move together", () => {
  const key = [3, 1, 2, 1, 3, 0, 2],
    tag = ["a", "b", "c", "d", "e", "f", "g"];
  const swap = (x: number, y: number) => {
    [key[x], key[y]] = [key[y]!, key[x]!];
    [tag[x], tag[y]] = [tag[y]!, tag[x]!];
  };
  insertionSort(1, 6, (x, y) => key[x]! > key[y]!, swap); // positions 0 and 6 stay put
  expect(key).toEqual([3, 0, 1, 1, 2, 3, 2]);
  expect(tag).toEqual(["a", "f", "b", "d", "c", "e", "g"]);
});
