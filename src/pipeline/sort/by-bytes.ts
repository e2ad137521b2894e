/** Byte strings sorted in code-unit order (the order JS string comparison gives on the decoded strings). */
import { BYTE_WEIGHT, compareBytes } from "../columns/bytes.ts";
import { scratch } from "../columns/memory.ts";
import { insertionSort } from "./insertion.ts";
import { identity } from "./radix.ts";

/**
 * Indices 0..count-1 of the byte strings bytes[start[i], end[i]) in code-unit order (ties by
 * index): MSD radix sort, one byte (257 buckets with the end of the string) per level; buckets of
 * up to 32 by insertion.
 */
export function sortByBytes(bytes: Uint8Array, start: Uint32Array, end: Uint32Array, count: number): Uint32Array {
  const order = identity(count);
  const tmp = scratch(Uint32Array, "sortTmp", count);
  const cnt = new Int32Array(258);
  const swap = (x: number, y: number) => {
    const u = order[x]!;
    order[x] = order[y]!;
    order[y] = u;
  };
  const stack: number[] = [0, count, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!,
      to = stack.pop()!,
      from = stack.pop()!;
    if (to - from <= 32) {
      insertionSort(
        from,
        to,
        (x, y) => {
          const u = order[x]!,
            v = order[y]!;
          return (compareBytes(bytes, start[u]! + depth, end[u]!, bytes, start[v]! + depth, end[v]!) || u - v) > 0;
        },
        swap,
      );
      continue;
    }
    cnt.fill(0);
    for (let x = from; x < to; x++) {
      const i = order[x]!,
        p = start[i]! + depth;
      cnt[(p < end[i]! ? BYTE_WEIGHT[bytes[p]!]! : 0) + 1]!++;
    }
    if (cnt[1] === to - from) continue; // all ended here: equal strings, index order kept
    for (let d = 0; d < 257; d++) cnt[d + 1]! += cnt[d]!;
    for (let x = from; x < to; x++) {
      const i = order[x]!,
        p = start[i]! + depth;
      tmp[from + cnt[p < end[i]! ? BYTE_WEIGHT[bytes[p]!]! : 0]!++] = i;
    }
    order.set(tmp.subarray(from, to), from);
    // cnt[d] is now the end of bucket d; bucket 0 (ended strings) needs no more work
    for (let d = 1; d < 257; d++) {
      const a = from + cnt[d - 1]!,
        b = from + cnt[d]!;
      if (b - a > 1) stack.push(a, b, depth + 1);
    }
  }
  return order;
}
