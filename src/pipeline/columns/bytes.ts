/**
 * Byte-string columns: text values (ids, receipts) stay UTF-8 bytes from the input file to the
 * output file, with no JS string per value; hashed, compared and ordered as bytes.
 */
import { ColumnBuilder } from "./builder.ts";

/**
 * A column of UTF-8 byte strings: value i = bytes[offsets[i], offsets[i+1]). The bytes are the
 * value exactly as read (valid UTF-8: the fast reader only takes valid files, the papaparse
 * fallback re-encodes its strings), so copying them to an output is the same as encoding the
 * string.
 */
export interface BytesColumn {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** The JS string of UTF-8 bytes [s, e) (BOM kept: it is data inside a value). */
export function decodeBytes(buf: Uint8Array, s: number, e: number): string {
  if (e - s <= 16) {
    // short ASCII values (campaigns, statuses) are cheaper by hand than through the decoder
    let out = "";
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decoder.decode(buf.subarray(s, e));
      out += String.fromCharCode(b);
    }
    return out;
  }
  return decoder.decode(buf.subarray(s, e));
}

/** Value i of a byte-string column, as a JS string (tests and rare paths; hot paths stay on bytes). */
export function strAt(col: BytesColumn, i: number): string {
  return decodeBytes(col.bytes, col.offsets[i]!, col.offsets[i + 1]!);
}

/** A byte-string column from JS strings (tests, small inputs). */
export function bytesColumn(values: readonly string[]): BytesColumn {
  const b = new BytesBuilder();
  for (const v of values) b.pushString(v);
  return b.finish();
}

/**
 * 32-bit FNV-1a of bytes [s, e), finished with murmur3's mixer (FNV's low bits alone are weak):
 * hash tables and partitioning only.
 */
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return mix32(h);
}

/** murmur3 fmix32. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** hashBytes of a string's UTF-8 bytes (the hash the loaders store per id). */
export function hashString(s: string): number {
  const b = encoder.encode(s);
  return hashBytes(b, 0, b.length);
}

/** Growable byte-string column; push returns the value's hash (computed while copying). */
export class BytesBuilder {
  bytes: Uint8Array;
  size = 0;
  readonly offsets = new ColumnBuilder(Uint32Array);
  constructor(capacity = 1 << 16) {
    this.bytes = new Uint8Array(capacity);
    this.offsets.push(0);
  }
  get length(): number {
    return this.offsets.length - 1;
  }
  private reserve(n: number): void {
    if (this.size + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.size + n) cap *= 2;
    if (cap > 0xffffffff) throw new RangeError("string column beyond 4 GiB");
    const next = new Uint8Array(cap);
    next.set(this.bytes.subarray(0, this.size));
    this.bytes = next;
  }
  /** Appends bytes [s, e) of buf; returns their FNV-1a hash. */
  push(buf: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (this.size + n > this.bytes.length) this.reserve(n);
    const out = this.bytes;
    let at = this.size;
    // hashBytes inlined on purpose (hot: every id read): the bytes are hashed while they are copied.
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) {
      const b = buf[i]!;
      out[at++] = b;
      h = Math.imul(h ^ b, 0x01000193);
    }
    this.size = at;
    this.offsets.push(at);
    return mix32(h);
  }
  pushString(value: string): number {
    const b = encoder.encode(value);
    return this.push(b, 0, b.length);
  }
  finish(): BytesColumn {
    return { bytes: this.bytes.slice(0, this.size), offsets: this.offsets.finish() };
  }
  /** The filled parts as views (transfer their buffers, or copy them). */
  view(): BytesColumn {
    return { bytes: this.bytes.subarray(0, this.size), offsets: this.offsets.view() };
  }
}

/**
 * Sort weight of a UTF-8 byte so that byte order equals UTF-16 code-unit order (the order JS
 * string comparison uses): lead bytes of U+E000..U+FFFF (0xEE, 0xEF) must sort after lead bytes
 * of supplementary characters (0xF0..0xF4, surrogate pairs in UTF-16). Every other byte keeps
 * its order; continuation bytes never meet a lead byte at the first difference.
 */
export const BYTE_WEIGHT = (() => {
  const w = new Uint16Array(256);
  for (let b = 0; b < 256; b++) w[b] = b + 1;
  w[0xee] = 0xf4 + 1;
  w[0xef] = 0xf5 + 1;
  for (let b = 0xf0; b <= 0xf4; b++) w[b] = b - 2 + 1;
  return w;
})();

/** Code-unit order of two UTF-8 byte strings (what `a < b` gives on the decoded strings). */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as,
    lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const x = a[as + i]!,
      y = b[bs + i]!;
    if (x !== y) return BYTE_WEIGHT[x]! - BYTE_WEIGHT[y]!;
  }
  return la - lb;
}

/** Byte equality of two slices. */
export function equalBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let i = 0; i < ae - as; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

/** Compares value i of column a with value j of column b (code-unit order). */
export function compareAt(a: BytesColumn, i: number, b: BytesColumn, j: number): number {
  return compareBytes(a.bytes, a.offsets[i]!, a.offsets[i + 1]!, b.bytes, b.offsets[j]!, b.offsets[j + 1]!);
}
