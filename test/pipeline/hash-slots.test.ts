/** HashSlots (the pipeline's one open-addressing table) and ByteDict over it. */
import { expect, test } from "bun:test";
import { ByteDict } from "../../src/pipeline/byte-dict.ts";
import { hashString } from "../../src/pipeline/columns/bytes.ts";
import { HashSlots } from "../../src/pipeline/hash-slots.ts";

/** Looks `key` up (the caller's loop the class documents); inserts it as entry `keys.length` when absent. */
function findOrAdd(t: HashSlots, keys: number[], key: number, h: number): number {
  for (let slot = t.first(h); ; slot = t.next(slot)) {
    const e = t.entry(slot);
    if (e < 0) {
      t.put(slot, h, keys.length);
      keys.push(key);
      return -1;
    }
    if (t.hash(slot) === h && keys[e] === key) return e;
  }
}

test("finds every key it holds across growth, with colliding and negative hashes", () => {
  const t = new HashSlots(16);
  const keys: number[] = [];
  const hashOf = (k: number) => (k % 7) - 3; // many keys per hash, some negative
  for (let k = 0; k < 5000; k++) expect(findOrAdd(t, keys, k, hashOf(k))).toBe(-1);
  expect(t.size).toBe(5000);
  for (let k = 0; k < 5000; k++) expect(findOrAdd(t, keys, k, hashOf(k))).toBe(k);
  expect(t.size).toBe(5000);
});

test("ByteDict: entries by bytes, in order of addition", () => {
  const d = new ByteDict();
  const enc = new TextEncoder();
  const words = Array.from({ length: 300 }, (_, i) => `w${i}é`);
  for (const [i, w] of words.entries()) {
    const b = enc.encode(w);
    expect(d.find(b, 0, b.length, hashString(w))).toBe(-1);
    expect(d.add(b, 0, b.length, hashString(w), i * 10)).toBe(i);
  }
  for (const [i, w] of words.entries()) {
    const b = enc.encode("x" + w);
    const at = d.find(b, 1, b.length, hashString(w));
    expect(at).toBe(i);
    expect(d.values[at]).toBe(i * 10);
  }
  expect(d.size).toBe(300);
});
