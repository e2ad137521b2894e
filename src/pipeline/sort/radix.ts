/**
 * Stable integer sorts over row indices. Keys are integers (epoch seconds, codes, file order),
 * so an LSD radix sort (16-bit digits) is O(n) where a comparator sort would call back into JS
 * n log n times. Sorting by several keys = radix by the last key first, the first key last.
 */

const DIGIT = 65_536;

/** Reorders `order` stably by key[order[i]] (integers < 2^53 apart). May return a new array. */
export function radixSortBy(order: Uint32Array, key: ArrayLike<number>): Uint32Array {
  const n = order.length;
  if (n < 2) return order;
  let min = Infinity,
    max = -Infinity;
  for (let i = 0; i < n; i++) {
    const k = key[order[i]!]!;
    if (k < min) min = k;
    if (k > max) max = k;
  }
  const range = max - min;
  if (range === 0) return order;
  if (n < 64) {
    // tiny input: a comparator sort beats clearing 65k counters per pass
    const pos = new Map<number, number>();
    order.forEach((row, i) => {
      pos.set(row, i);
    });
    return Uint32Array.from(order).sort((a, b) => key[a]! - key[b]! || pos.get(a)! - pos.get(b)!);
  }
  let src: Uint32Array = order;
  let dst: Uint32Array = new Uint32Array(n);
  const count = new Uint32Array(DIGIT + 1);
  if (range < 4294967296) {
    // common case (seconds within a century, codes, row numbers): 32-bit integer digit maths
    for (let shift = 0; shift < 32 && range >>> shift > 0; shift += 16) {
      count.fill(0);
      for (let i = 0; i < n; i++) count[(((key[src[i]!]! - min) >>> shift) & 0xffff) + 1]!++;
      for (let d = 0; d < DIGIT; d++) count[d + 1]! += count[d]!;
      for (let i = 0; i < n; i++) {
        const row = src[i]!;
        dst[count[((key[row]! - min) >>> shift) & 0xffff]!++] = row;
      }
      [src, dst] = [dst, src];
    }
    return src;
  }
  for (let shift = 1; shift <= range; shift *= DIGIT) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(Math.floor((key[src[i]!]! - min) / shift) % DIGIT) + 1]!++;
    for (let d = 0; d < DIGIT; d++) count[d + 1]! += count[d]!;
    for (let i = 0; i < n; i++) {
      const row = src[i]!;
      dst[count[Math.floor((key[row]! - min) / shift) % DIGIT]!++] = row;
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/**
 * Stable LSD radix sort of (key, value) pairs by 32-bit unsigned keys, keys carried along (no
 * gather through an index). Digits of at most 12 bits (as few passes as the widest key needs):
 * a few thousand buckets keep the scatter's write streams in cache, where 65536 would thrash it. `payload`
 * arrays (aligned with the pairs) are carried along too. Returns the sorted arrays (possibly the
 * inputs, reordered).
 */
export function radixSortPairs(
  keys: Uint32Array,
  values: Uint32Array,
  payload: Uint32Array[] = [],
): { keys: Uint32Array; values: Uint32Array; payload: Uint32Array[] } {
  const n = keys.length;
  let max = 0;
  for (let i = 0; i < n; i++) if (keys[i]! > max) max = keys[i]!;
  let k1: Uint32Array = keys,
    v1: Uint32Array = values;
  let k2: Uint32Array = new Uint32Array(n),
    v2: Uint32Array = new Uint32Array(n);
  let p1: Uint32Array[] = payload,
    p2: Uint32Array[] = payload.map(() => new Uint32Array(n));
  // as few passes of at most 12 bits as the widest key needs
  let bits = 1;
  while (bits < 32 && max >>> bits > 0) bits++;
  const passes = Math.ceil(bits / 12);
  const BITS = Math.ceil(bits / passes),
    SIZE = 1 << BITS,
    MASK = SIZE - 1;
  const count = new Uint32Array(SIZE + 1);
  const at = new Uint32Array(SIZE);
  for (let shift = 0; shift < BITS * passes; shift += BITS) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((k1[i]! >>> shift) & MASK) + 1]!++;
    for (let d = 0; d < SIZE; d++) count[d + 1]! += count[d]!;
    at.set(count.subarray(0, SIZE));
    for (let i = 0; i < n; i++) {
      const k = k1[i]!;
      const to = at[(k >>> shift) & MASK]!++;
      k2[to] = k;
      v2[to] = v1[i]!;
    }
    for (let q = 0; q < p1.length; q++) {
      const src = p1[q]!,
        dst = p2[q]!;
      at.set(count.subarray(0, SIZE));
      for (let i = 0; i < n; i++) dst[at[(k1[i]! >>> shift) & MASK]!++] = src[i]!;
    }
    [k1, k2] = [k2, k1];
    [v1, v2] = [v2, v1];
    [p1, p2] = [p2, p1];
  }
  return { keys: k1, values: v1, payload: p1 };
}

/** 0..n-1 */
export function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
