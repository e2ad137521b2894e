/**
 * Small dictionary keyed by byte strings (statuses, event names, campaigns, id sets): a value is
 * looked up by its bytes without making a string.
 */
import { BytesBuilder, equalBytes } from "./columns/bytes.ts";
import { HashSlots } from "./hash-slots.ts";

export class ByteDict {
  private readonly keys = new BytesBuilder(256);
  private readonly slots = new HashSlots(64);
  readonly values: number[] = [];
  get size(): number {
    return this.values.length;
  }
  /** Entry index of bytes [s, e) with hash h, or -1. */
  find(buf: Uint8Array, s: number, e: number, h: number): number {
    const t = this.slots;
    const kb = this.keys.bytes,
      ko = this.keys.offsets.data;
    for (let slot = t.first(h); ; slot = t.next(slot)) {
      const at = t.entry(slot);
      if (at < 0) return -1;
      if (t.hash(slot) === h && equalBytes(kb, ko[at]!, ko[at + 1]!, buf, s, e)) return at;
    }
  }
  /** Adds bytes [s, e) (not present) with a value; returns its entry index. */
  add(buf: Uint8Array, s: number, e: number, h: number, value: number): number {
    const at = this.values.length;
    this.keys.push(buf, s, e);
    this.values.push(value);
    const t = this.slots;
    let slot = t.first(h);
    while (t.entry(slot) >= 0) slot = t.next(slot);
    t.put(slot, h, at);
    return at;
  }
}
