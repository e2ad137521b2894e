/** Equal appsflyer_ids of a partition grouped, their distinct ids in a compact arena. */
import { equalBytes } from "../columns/bytes.ts";
import { scratch } from "../columns/memory.ts";
import { HashSlots } from "../hash-slots.ts";

/**
 * Groups equal ids by their hash (HashSlots); on a hash hit the bytes are compared with the
 * group's id, kept in a compact arena of distinct ids (keys[keyOff[g], keyOff[g+1])): the table
 * and that arena are small enough to stay in cache, the rows themselves are read in order.
 * group[i] per combined index; groups are numbered in order of first appearance.
 */
export function groupIds(
  ids: Uint8Array,
  off: Uint32Array,
  hash: Int32Array,
  n: number,
): { group: Int32Array; count: number; keys: Uint8Array; keyOff: Uint32Array } {
  // sized for the worst case (every id distinct) so it never grows: a grow rehashes into fresh
  // memory, and three of them cost ~130 ms of a 1M-row partition (profiled)
  const slots = new HashSlots(Math.max(1024, 2 * n), "slots");
  const group = scratch(Int32Array, "group", n);
  let keys = scratch(Uint8Array, "keys", Math.max(1024, off[n]! >> 2));
  const keyOff = scratch(Uint32Array, "keyOff", n + 1);
  keyOff[0] = 0;
  let count = 0,
    used = 0;
  for (let i = 0; i < n; i++) {
    const h = hash[i]!;
    const s = off[i]!,
      e = off[i + 1]!;
    for (let slot = slots.first(h); ; slot = slots.next(slot)) {
      const g = slots.entry(slot);
      if (g < 0) {
        if (used + e - s > keys.length) {
          const next = new Uint8Array(Math.max(keys.length * 2, used + e - s));
          next.set(keys.subarray(0, used));
          keys = next;
        }
        for (let j = s; j < e; j++) keys[used++] = ids[j]!;
        keyOff[count + 1] = used;
        group[i] = count;
        slots.put(slot, h, count++);
        break;
      }
      if (slots.hash(slot) === h && equalBytes(keys, keyOff[g]!, keyOff[g + 1]!, ids, s, e)) {
        group[i] = g;
        break;
      }
    }
  }
  return { group, count, keys, keyOff };
}
