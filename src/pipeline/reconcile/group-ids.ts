/** Equal appsflyer_ids of a partition grouped, their distinct ids in a compact arena. */
import { equalBytes, scratch } from "../columns.ts";

/**
 * Groups equal ids with open addressing on the id hash; on a hash hit the bytes are compared with
 * the group's id, kept in a compact arena of distinct ids (keys[keyOff[g], keyOff[g+1])): the
 * table and that arena are small enough to stay in cache, the rows themselves are read in order.
 * group[i] per combined index; reps[g] = the combined index of the group's first member.
 */
export function groupIds(ids: Uint8Array, off: Uint32Array, hash: Int32Array, n: number): { group: Int32Array; reps: Int32Array; count: number; keys: Uint8Array; keyOff: Uint32Array } {
  // sized for the groups (far fewer than rows), doubled when half full
  let size = 1024;
  while (size < n / 4) size *= 2;
  let mask = size - 1;
  let slots = scratch(Int32Array, "slots", size * 2, true); // [group + 1, hash]
  const group = scratch(Int32Array, "group", n);
  const reps = scratch(Int32Array, "reps", n);
  let keys = scratch(Uint8Array, "keys", Math.max(1024, off[n]! >> 2));
  const keyOff = scratch(Uint32Array, "keyOff", n + 1);
  keyOff[0] = 0;
  let count = 0, used = 0;
  for (let i = 0; i < n; i++) {
    if (count * 2 > size) {
      size *= 2;
      mask = size - 1;
      const next = new Int32Array(size * 2);
      for (let at = 0; at < slots.length; at += 2) {
        if (slots[at] === 0) continue;
        let slot = slots[at + 1]! & mask;
        while (next[slot << 1] !== 0) slot = (slot + 1) & mask;
        next[slot << 1] = slots[at]!;
        next[(slot << 1) + 1] = slots[at + 1]!;
      }
      slots = next;
    }
    const h = hash[i]!;
    const s = off[i]!, e = off[i + 1]!;
    let slot = h & mask;
    for (;;) {
      const at = slot << 1;
      const g1 = slots[at]!;
      if (g1 === 0) {
        slots[at] = count + 1;
        slots[at + 1] = h;
        reps[count] = i;
        if (used + e - s > keys.length) {
          const next = new Uint8Array(Math.max(keys.length * 2, used + e - s));
          next.set(keys.subarray(0, used));
          keys = next;
        }
        for (let j = s; j < e; j++) keys[used++] = ids[j]!;
        keyOff[count + 1] = used;
        group[i] = count++;
        break;
      }
      if (slots[at + 1] === h && equalBytes(keys, keyOff[g1 - 1]!, keyOff[g1]!, ids, s, e)) {
        group[i] = g1 - 1;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { group, reps, count, keys, keyOff };
}
