/**
 * Cell helpers of the row logic: blank test and memoised lookups of low-cardinality cells
 * (status, event_name, campaign) by their bytes, without a string per row.
 */
import { ByteDict } from "../../byte-dict.ts";
import { decodeBytes, mix32 } from "../../columns/bytes.ts";

/** `text.trim() === ""` on the bytes [s, e). */
export function isBlankBytes(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x80) return decodeBytes(b, s, e).trim() === "";
    if (c !== 32 && (c < 9 || c > 13)) return false;
  }
  return true;
}

/**
 * Hash of a low-cardinality cell (status, event, campaign) from its length and three of its bytes:
 * cheap, and the dictionary compares the bytes anyway.
 */
function quickHash(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return 0;
  return mix32(Math.imul(n, 0x9e3779b1) ^ (b[s]! << 8) ^ (b[e - 1]! << 16) ^ (b[s + (n >> 1)]! << 24));
}

/** A low-cardinality cell mapped through fn (status, event_name), memoised by its bytes (bounded). */
export class Keyword {
  private readonly dict = new ByteDict();
  /** the last value looked up (a column mostly repeats one value: "success", "purchase") */
  private readonly last = new Uint8Array(32);
  private lastLen = -1;
  private lastValue = 0;
  constructor(private readonly fn: (raw: string) => number) {}
  of(b: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (n === this.lastLen) {
      const last = this.last;
      let i = 0;
      while (i < n && b[s + i] === last[i]) i++;
      if (i === n) return this.lastValue;
    }
    const h = quickHash(b, s, e);
    const at = this.dict.find(b, s, e, h);
    let v: number;
    if (at >= 0) v = this.dict.values[at]!;
    else {
      v = this.fn(decodeBytes(b, s, e));
      if (this.dict.size < 1024) this.dict.add(b, s, e, h, v); // garbage values must not grow it without bound
    }
    if (n <= 32) {
      this.last.set(b.subarray(s, e));
      this.lastLen = n;
      this.lastValue = v;
    }
    return v;
  }
}

/** Raw campaign values interned by their bytes (normalised later, once per distinct value). */
export class Campaigns {
  private readonly dict = new ByteDict();
  readonly raw: string[] = [];
  code(b: Uint8Array, s: number, e: number): number {
    const h = quickHash(b, s, e);
    const at = this.dict.find(b, s, e, h);
    if (at >= 0) return this.dict.values[at]!;
    const code = this.raw.length;
    this.raw.push(decodeBytes(b, s, e));
    this.dict.add(b, s, e, h, code);
    return code;
  }
}
