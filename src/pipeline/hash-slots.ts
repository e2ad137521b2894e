/**
 * The one open-addressing hash table of the pipeline (byte dictionaries, dedupe, id grouping).
 * It stores (entry, hash) pairs only; the keys stay with the caller, which compares them on a
 * hash hit. A lookup is a loop the caller writes, so its key comparison is inlined, not a
 * callback:
 *
 *   for (let slot = t.first(h); ; slot = t.next(slot)) {
 *     const e = t.entry(slot);
 *     if (e < 0) { t.put(slot, h, newEntry); break; }  // absent: insert here
 *     if (t.hash(slot) === h && sameKey(e)) break;      // found
 *   }
 *
 * Linear probing, power-of-two size, doubled when more than half full.
 */
import { scratch } from "./columns/memory.ts";

export class HashSlots {
  /** slot s: [entry + 1 (0 = empty), hash] at 2s, 2s + 1 */
  private slots: Int32Array;
  private mask: number;
  /** entries held */
  size = 0;
  /**
   * `minSlots`: at least this many slots (rounded up to a power of two, 16 at least). `scratchName`:
   * the first table lives in that thread scratch memory (reused by the next task of the thread).
   */
  constructor(minSlots: number, scratchName?: string) {
    let n = 16;
    while (n < minSlots) n *= 2;
    this.slots = scratchName === undefined ? new Int32Array(n * 2) : scratch(Int32Array, scratchName, n * 2, true);
    this.mask = n - 1;
  }
  /** The first slot to probe for hash `h` (an int32). */
  first(h: number): number {
    return h & this.mask;
  }
  next(slot: number): number {
    return (slot + 1) & this.mask;
  }
  /** The entry in `slot`, -1 when it is empty. */
  entry(slot: number): number {
    return this.slots[slot << 1]! - 1;
  }
  /** The hash of the entry in `slot`. */
  hash(slot: number): number {
    return this.slots[(slot << 1) + 1]!;
  }
  /** Puts `entry` with hash `h` into the empty `slot` a probe for `h` ended at. */
  put(slot: number, h: number, entry: number): void {
    this.slots[slot << 1] = entry + 1;
    this.slots[(slot << 1) + 1] = h;
    if (++this.size * 2 > this.mask + 1) this.grow();
  }
  private grow(): void {
    const old = this.slots;
    const size = (this.mask + 1) * 2;
    const mask = size - 1;
    const next = new Int32Array(size * 2);
    for (let at = 0; at < old.length; at += 2) {
      if (old[at] === 0) continue;
      let slot = old[at + 1]! & mask;
      while (next[slot << 1] !== 0) slot = (slot + 1) & mask;
      next[slot << 1] = old[at]!;
      next[(slot << 1) + 1] = old[at + 1]!;
    }
    this.slots = next;
    this.mask = mask;
  }
}
